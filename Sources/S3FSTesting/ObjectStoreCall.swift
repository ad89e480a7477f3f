import ObjectStore

/// One call made to an `ObjectStore`, as the test stores record it and as fault predicates see it.
public enum ObjectStoreCall: Hashable, Sendable {
    case list(ListRequest)
    case head(key: String)
    case get(key: String, range: ByteRange?, ifMatch: ETag?)

    /// Which operation this call is.
    public var operation: ObjectStoreOperation {
        switch self {
        case .list: .list
        case .head: .head
        case .get: .get
        }
    }

    /// The key a head or get names, or the prefix a list names.
    public var key: String {
        switch self {
        case .list(let request): request.prefix
        case .head(let key), .get(let key, _, _): key
        }
    }
}

/// The operations of `ObjectStore`, for counters and fault rules.
public enum ObjectStoreOperation: Hashable, Sendable, CaseIterable {
    case list, head, get
}
