// Builds signed (or anonymous) HTTP requests for S3 operations.

import Foundation
import ObjectStore

struct S3RequestFactory: Sendable {
    let endpoint: S3Endpoint
    /// nil for anonymous requests.
    let signer: SigV4Signer?

    /// A request for `key` (nil: the bucket). Signs host, x-amz-content-sha256 (`payloadHash`), x-amz-date, the
    /// session token, Range and `signedHeaders` (x-amz-copy-source…); If-Match and `unsignedHeaders` are sent
    /// unsigned, as is Content-Length (curl adds it for `body`).
    func make(
        _ method: HTTPRequest.Method, key: String?, query: [(name: String, value: String)] = [],
        range: ByteRange? = nil, ifMatch: ETag? = nil, signedHeaders: [(name: String, value: String)] = [],
        unsignedHeaders: [String] = [], body: UploadBody? = nil, payloadHash: String = Digest.emptyPayloadSHA256,
        now: Date = Date()
    ) -> HTTPRequest {
        let path = endpoint.path(forKey: key)
        var signed: [(name: String, value: String)] = [
            ("host", endpoint.hostHeader),
            // Sent on unsigned requests too: Ceph RGW rejects header-signed requests without it, and it is harmless.
            ("x-amz-content-sha256", payloadHash),
        ]
        if let range { signed.append(("range", range.httpHeaderValue)) }
        signed += signedHeaders
        var unsigned: [String] = []
        if let signer {
            let amzDate = Timestamps.amzDate(epochSeconds: Int(now.timeIntervalSince1970))
            signed.append(("x-amz-date", amzDate))
            if let token = signer.credentials.sessionToken { signed.append(("x-amz-security-token", token)) }
            let signable = SignableRequest(
                method: method.rawValue, path: path, query: query, headers: signed, payloadHash: payloadHash)
            unsigned.append("Authorization: \(signer.authorization(for: signable, amzDate: amzDate))")
        }
        // A server that gave no ETag (ETag("")) cannot be asked to match one: such a read is not pinned to a version.
        if let ifMatch, !ifMatch.value.isEmpty { unsigned.append("If-Match: \(ifMatch.value)") }
        unsigned += unsignedHeaders
        return HTTPRequest(
            method: method, url: endpoint.url(path: path, query: query),
            headerLines: signed.map { "\($0.name): \($0.value)" } + unsigned, bodyWindow: range, uploadBody: body)
    }

    /// The same factory signing with `signer` (nil: unsigned).
    func signed(by signer: SigV4Signer?) -> S3RequestFactory {
        S3RequestFactory(endpoint: endpoint, signer: signer)
    }

    /// The x-amz-content-sha256 value for sending `body` (see PayloadHash).
    func payloadHash(for body: UploadBody) async throws(ClientError) -> String {
        try await PayloadHash.value(for: body, scheme: endpoint.scheme, signed: signer != nil)
    }

    /// The x-amz-copy-source value naming `key` of this bucket: "/bucket/key", the key URI-encoded but for "/".
    func copySource(_ key: String) -> String {
        "/\(endpoint.bucket)/\(URIEncoding.encode(key, keepSlash: true))"
    }
}
