import ObjectStore

/// One call made to an `ObjectStore`, as the test stores record it and as fault predicates see it.
public enum ObjectStoreCall: Hashable, Sendable {
    case list(ListRequest)
    case head(key: String)
    case get(key: String, range: ByteRange?, ifMatch: ETag?)
    case put(key: String, size: UInt64, condition: WriteCondition)
    case delete(key: String)
    case copy(source: String, key: String)
    case createMultipartUpload(key: String)
    case uploadPart(key: String, number: Int, size: UInt64)
    case uploadPartCopy(key: String, number: Int, source: String, range: ByteRange)
    case completeMultipartUpload(key: String, parts: Int)
    case abortMultipartUpload(key: String)
    case listMultipartUploads(prefix: String)

    /// Which operation this call is.
    public var operation: ObjectStoreOperation {
        switch self {
        case .list: .list
        case .head: .head
        case .get: .get
        case .put: .put
        case .delete: .delete
        case .copy: .copy
        case .createMultipartUpload, .uploadPart, .uploadPartCopy, .completeMultipartUpload, .abortMultipartUpload,
            .listMultipartUploads:
            .multipart
        }
    }

    /// The key a head or get names, or the prefix a list names.
    public var key: String {
        switch self {
        case .list(let request): request.prefix
        case .listMultipartUploads(let prefix): prefix
        case .head(let key), .get(let key, _, _), .put(let key, _, _), .delete(let key), .copy(_, let key),
            .createMultipartUpload(let key), .uploadPart(let key, _, _), .uploadPartCopy(let key, _, _, _),
            .completeMultipartUpload(let key, _), .abortMultipartUpload(let key):
            key
        }
    }
}

/// The operations of `ObjectStore`, for counters and fault rules.
public enum ObjectStoreOperation: Hashable, Sendable, CaseIterable {
    case list, head, get, put, delete, copy
    /// Any of the multipart calls (create, upload part, upload part copy, complete, abort, list).
    case multipart
}
