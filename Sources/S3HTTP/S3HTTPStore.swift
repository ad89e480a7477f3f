// S3HTTPStore: the ObjectStore that talks to a real S3 server (AWS, Ceph RGW, MinIO, ...).
//
// Design: each operation (Operations/) builds a request with S3RequestFactory (endpoint addressing +
// SigV4 or anonymous), runs it on the shared TransferEngine (one libcurl multi thread, keep-alive connections),
// and turns the answer into values or an ObjectStoreError: transport failures map from curl codes
// (CurlErrorMapping), error answers from status + XML code (ServiceErrorMapping). Every request is logged at
// trace with method, key, range, status and duration; headers are never logged, so keys and signatures cannot be.
// Requests are signed with the credentials in force when they are built (RequestSigning over
// RefreshingCredentials); `send` is the one place that refreshes credentials the server rejected as expired and
// sends the request again, once.

import Foundation
import Logging
import ObjectStore

public final class S3HTTPStore: ObjectStore {
    public let bucket: String
    /// The factory for unsigned requests; `send` hands operations the one signing with current credentials.
    let requests: S3RequestFactory
    /// nil for anonymous access.
    let signing: RequestSigning?
    let engine: TransferEngine
    let logger: Logger

    public init(config: S3HTTPConfig, logger: Logger) throws(S3ConfigError) {
        let endpoint = try S3Endpoint(config: config)
        guard config.maxConnections > 0, config.connectTimeout > 0, config.lowSpeedTime >= 0 else {
            throw S3ConfigError("maxConnections and connectTimeout must be positive, lowSpeedTime not negative")
        }
        let options = TransferOptions(
            connectTimeout: config.connectTimeout, lowSpeedLimit: config.lowSpeedLimit,
            lowSpeedTime: config.lowSpeedTime, maxConnections: config.maxConnections, tlsVerify: config.tlsVerify,
            caBundle: config.caBundle)
        do {
            engine = try TransferEngine(options: options)
        } catch {
            throw S3ConfigError("cannot start the HTTP client: \(error.detail)")
        }
        bucket = config.bucket
        requests = S3RequestFactory(endpoint: endpoint, signer: nil)
        let credentials =
            config.refreshingCredentials ?? config.credentials.map { RefreshingCredentials(fixed: $0, logger: logger) }
        signing = credentials.map { RequestSigning(credentials: $0, region: config.region) }
        var logger = logger
        logger[metadataKey: "s3.bucket"] = "\(config.bucket)"
        self.logger = logger
    }

    /// Connections opened so far; with keep-alive working it grows far slower than the request count.
    public var connectionsOpened: Int { engine.connectionsOpened }

    /// Mount-time check that the bucket exists and the credentials may list `prefix` (ListObjectsV2, max-keys=1).
    public func checkBucket(prefix: String = "") async throws(ObjectStoreError) {
        _ = try await list(ListRequest(prefix: prefix, delimiter: "/", maxKeys: 1))
    }

    /// Builds a request with `build` (handed the factory signing with the current credentials), sends it, logs it
    /// at trace, and returns the response of any status; transport failures throw. When the server rejects
    /// refreshable credentials as expired (ServiceErrorMapping.rejectsExpiredCredentials), the credentials are
    /// refreshed and the request built and sent once more; its answer, whatever it is, is the result. Credentials
    /// that cannot be had (expired, refresh failing) fail the request as access denied.
    func send(
        key: String?, range: ByteRange?, _ build: (S3RequestFactory) async throws(ObjectStoreError) -> HTTPRequest
    ) async throws(ObjectStoreError) -> HTTPResponse {
        guard let signing else { return try await sendOnce(try await build(requests), key: key, range: range) }
        let signer: SigV4Signer
        do {
            signer = try await signing.signer()
        } catch {
            throw Self.unavailable(error)
        }
        let request = try await build(requests.signed(by: signer))
        let response = try await sendOnce(request, key: key, range: range)
        guard signing.credentials.refreshable,
            ServiceErrorMapping.rejectsExpiredCredentials(response, method: request.method)
        else { return response }
        logger.info(
            "s3 rejected the credentials as expired; refreshing them and retrying once",
            metadata: ["s3.key": "\(key ?? "")", "source": "\(signing.credentials.source)"])
        let fresh: SigV4Signer
        do {
            fresh = try await signing.signer(afterRejecting: signer)
        } catch {
            throw Self.unavailable(error)
        }
        return try await sendOnce(try await build(requests.signed(by: fresh)), key: key, range: range)
    }

    /// No credentials to sign with: access denied (EACCES), with the source's reason.
    private static func unavailable(_ error: CredentialError) -> ObjectStoreError {
        .service(ServiceError(kind: .accessDenied, status: 0, code: "CredentialsUnavailable", message: error.description))
    }

    private func sendOnce(_ request: HTTPRequest, key: String?, range: ByteRange?) async throws(ObjectStoreError)
        -> HTTPResponse
    {
        let clock = ContinuousClock()
        let start = clock.now
        let result = await engine.perform(request)
        let milliseconds = (clock.now - start) / .milliseconds(1)
        logger.trace(
            "s3 request",
            metadata: [
                "s3.method": "\(request.method.rawValue)", "s3.key": "\(key ?? "")",
                "s3.range": "\(range?.httpHeaderValue ?? "-")",
                "s3.status": "\((try? result.get()).map { String($0.status) } ?? "failed")",
                "s3.duration_ms": "\(String(format: "%.1f", milliseconds))",
            ])
        switch result {
        case .success(let response): return response
        case .failure(let error): throw .client(error)
        }
    }
}
