import ObjectStore

extension ObjectStoreError {
    /// A service error of `kind` with the status and code a real S3 server sends for it.
    public static func stub(_ kind: ServiceError.Kind) -> ObjectStoreError {
        let (status, code): (Int, String) =
            switch kind {
            case .noSuchKey: (404, "NoSuchKey")
            case .noSuchBucket: (404, "NoSuchBucket")
            case .accessDenied: (403, "AccessDenied")
            case .preconditionFailed: (412, "PreconditionFailed")
            case .invalidRange: (416, "InvalidRange")
            case .noSuchUpload: (404, "NoSuchUpload")
            case .throttled: (503, "SlowDown")
            case .serverError: (500, "InternalError")
            case .other: (400, "InvalidArgument")
            }
        return .service(ServiceError(kind: kind, status: status, code: code, message: "injected by a test"))
    }

    /// A client error of `kind`, as a transport failure would produce it.
    public static func stub(_ kind: ClientError.Kind) -> ObjectStoreError {
        .client(ClientError(kind: kind, detail: "injected by a test"))
    }
}
