// The failures an ObjectStore reports, split into what the service said and what went wrong on the way.
// The filesystem maps each case to one errno (S3FSCore/Errors/ErrnoMapping.swift); the CLI maps the
// mount-time ones to one line that names the problem and the fix.

public enum ObjectStoreError: Error, Hashable, Sendable {
    /// The service answered with an error.
    case service(ServiceError)
    /// No usable answer came back: the request never reached a server or the answer was cut or garbled.
    case client(ClientError)
}

/// An S3 error response: HTTP status plus the `<Code>`/`<Message>` of its XML body (when it had one).
public struct ServiceError: Error, Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case noSuchKey  // 404 NoSuchKey
        case noSuchBucket  // 404 NoSuchBucket
        case accessDenied  // 403: AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, ...
        case preconditionFailed  // 412: If-Match did not match (the object changed)
        case invalidRange  // 416
        case noSuchUpload  // 404 NoSuchUpload: the multipart upload was completed or aborted
        case throttled  // 503 SlowDown, 429
        case serverError  // other 5xx
        case other  // anything else
    }

    public var kind: Kind
    public var status: Int
    public var code: String
    public var message: String
    public var requestID: String?

    public init(kind: Kind, status: Int, code: String, message: String, requestID: String? = nil) {
        self.kind = kind
        self.status = status
        self.code = code
        self.message = message
        self.requestID = requestID
    }
}

/// A failure before, during or after the HTTP exchange.
public struct ClientError: Error, Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case connectionRefused
        case hostNotFound  // DNS
        case timedOut  // connect or transfer timeout, or a stalled transfer
        case connectionReset  // reset, or the server closed mid-answer
        case tls  // the TLS handshake failed (not over the certificate)
        case tlsCertificate  // the server's certificate was not trusted, or the CA bundle could not be used
        case truncatedBody  // fewer bytes than Content-Length / the requested range
        case malformedResponse  // unparsable XML or headers
        case other
    }

    public var kind: Kind
    public var detail: String

    public init(kind: Kind, detail: String) {
        self.kind = kind
        self.detail = detail
    }
}

extension ObjectStoreError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .service(let e):
            let id = e.requestID.map { ", request id \($0)" } ?? ""
            return "HTTP \(e.status) \(e.code)\(e.message.isEmpty ? "" : ": \(e.message)")\(id)"
        case .client(let e):
            return "\(e.kind): \(e.detail)"
        }
    }
}
