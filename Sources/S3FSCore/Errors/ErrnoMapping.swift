// Every failure the core can see becomes exactly one errno here, and nowhere else.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import ObjectStore

extension FSError {
    /// The errno and log level for an object-store failure met while doing `operation` on `key`.
    public init(_ error: ObjectStoreError, operation: String, key: String) {
        let (code, level) = Self.errnoAndLevel(for: error)
        self.init(errno: code, "\(operation) \"\(key)\": \(error)", logLevel: level)
    }

    static func errnoAndLevel(for error: ObjectStoreError) -> (Int32, Logger.Level) {
        switch error {
        case .service(let e):
            switch e.kind {
            case .noSuchKey, .noSuchBucket: return (ENOENT, .debug)
            case .accessDenied: return (EACCES, .warning)
            case .preconditionFailed: return (ESTALE, .warning)
            case .invalidRange: return (EINVAL, .warning)
            case .throttled, .serverError, .noSuchUpload, .other: return (EIO, .error)
            }
        case .client(let e):
            switch e.kind {
            case .connectionRefused, .hostNotFound, .timedOut, .connectionReset, .tls, .tlsCertificate, .truncatedBody,
                .malformedResponse, .other:
                return (EIO, .error)
            }
        }
    }
}
