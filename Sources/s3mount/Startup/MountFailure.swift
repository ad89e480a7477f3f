/// A reason the mount cannot start, phrased for the operator: the problem and the fix, on one line.
struct MountFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

import ObjectStore
import S3HTTP

extension MountFailure {
    /// What a failed mount-time LIST means for the operator.
    static func bucketCheck(_ error: ObjectStoreError, bucket: String, endpoint: String, config: S3HTTPConfig) -> MountFailure {
        switch error {
        case .service(let e):
            switch e.kind {
            case .noSuchBucket:
                return MountFailure("bucket '\(bucket)' does not exist at \(endpoint): check the bucket name, --endpoint and --region")
            case .accessDenied:
                return MountFailure(
                    "access denied to bucket '\(bucket)' at \(endpoint) (\(e.code)): check the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, --profile) and that they may list the bucket")
            default:
                return MountFailure("listing bucket '\(bucket)' at \(endpoint) failed: \(error)")
            }
        case .client(let e):
            switch e.kind {
            case .connectionRefused:
                return MountFailure("cannot connect to \(endpoint): connection refused; check --endpoint and that the S3 server is running")
            case .hostNotFound:
                return MountFailure("cannot resolve the host of \(endpoint): check --endpoint")
            case .timedOut:
                return MountFailure(
                    "\(endpoint) did not answer in time (connect timeout \(config.connectTimeout) s, stall timeout \(config.lowSpeedTime) s): check --endpoint and the network, or raise --connect-timeout")
            case .tls:
                return MountFailure(
                    "TLS handshake with \(endpoint) failed (\(e.detail)): check that the server serves https on that port (else give an http:// --endpoint)")
            case .tlsCertificate:
                return certificateRefused(endpoint: endpoint, detail: e.detail, caBundle: config.caBundle)
            default:
                return MountFailure("listing bucket '\(bucket)' at \(endpoint) failed: \(error)")
            }
        }
    }

    /// TLS verification refused the server's certificate: the CAs used, and the fix (the right CA, or the name
    /// the certificate was issued for).
    static func certificateRefused(endpoint: String, detail: String, caBundle: String?) -> MountFailure {
        let trusted = caBundle.map { "CAs from \($0)" } ?? "the system's CAs"
        let fix = detail.contains("subject name")
            ? "give --endpoint the host name or address the certificate was issued for"
            : "give the CA that signed the server's certificate with --ca-bundle FILE or AWS_CA_BUNDLE=FILE"
        return MountFailure("TLS verification of \(endpoint)'s certificate failed (\(detail); checked against \(trusted)): \(fix)")
    }
}
