// HTTP status + S3 error code → ServiceError.Kind.

import ObjectStore

enum ServiceErrorMapping {
    /// What a request addressed, to tell a bare 404 (HEAD has no body) for a key from one for a bucket.
    enum Target {
        case bucket
        case object
    }

    /// Codes that all mean "these credentials may not do this".
    static let accessDeniedCodes: Set<String> = [
        "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
        "TokenRefreshRequired", "AllAccessDisabled", "AccountProblem", "RequestTimeTooSkewed", "InvalidSecurity", "NotSignedUp",
    ]

    /// Codes with which S3 turns away a session token that expired or was revoked: worth one credential refresh.
    /// (RequestExpired is not one: it means the request's own date is too old, which new credentials do not fix.)
    static let expiredCredentialCodes: Set<String> = ["ExpiredToken", "TokenRefreshRequired", "InvalidToken"]

    /// Whether `response` rejects the request's temporary credentials as expired: an error document with one of
    /// `expiredCredentialCodes`, or a bare 400 to a HEAD (HEAD answers have no body; S3 answers an expired token
    /// to HEAD with 400).
    static func rejectsExpiredCredentials(_ response: HTTPResponse, method: HTTPRequest.Method) -> Bool {
        guard response.status == 400 || response.status == 403 else { return false }
        if method == .head && response.body.isEmpty { return response.status == 400 }
        return (try? ErrorDocumentReader.read(response.body)).map { expiredCredentialCodes.contains($0.code) } ?? false
    }

    static let throttlingCodes: Set<String> = ["SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded"]

    /// The error for a non-success response; the body is read as an S3 error document when it is one.
    static func serviceError(status: Int, headers: [String: String], body: [UInt8], target: Target) -> ServiceError {
        let document = try? ErrorDocumentReader.read(body)
        let code = document?.code ?? defaultCode(status: status)
        return ServiceError(
            kind: kind(status: status, code: code, target: target), status: status, code: code,
            message: document?.message ?? "", requestID: document?.requestID ?? headers["x-amz-request-id"])
    }

    static func kind(status: Int, code: String, target: Target) -> ServiceError.Kind {
        switch code {
        case "NoSuchKey": return .noSuchKey
        case "NoSuchBucket": return .noSuchBucket
        case "PreconditionFailed": return .preconditionFailed
        case "InvalidRange": return .invalidRange
        case "NoSuchUpload": return .noSuchUpload
        // Also sent inside a 200 answer (CompleteMultipartUpload, CopyObject) when the server failed midway.
        case "InternalError": return .serverError
        case _ where accessDeniedCodes.contains(code): return .accessDenied
        case _ where throttlingCodes.contains(code): return .throttled
        default: break
        }
        switch status {
        case 404: return target == .bucket ? .noSuchBucket : .noSuchKey
        case 403: return .accessDenied
        case 412: return .preconditionFailed
        case 416: return .invalidRange
        case 429, 503: return .throttled
        case 500...599: return .serverError
        default: return .other
        }
    }

    /// A code for bodiless answers (HEAD), in S3's spelling where one exists.
    private static func defaultCode(status: Int) -> String {
        switch status {
        case 404: "NotFound"
        case 403: "Forbidden"
        case 412: "PreconditionFailed"
        case 416: "InvalidRange"
        case 503: "ServiceUnavailable"
        default: "HTTP\(status)"
        }
    }
}
