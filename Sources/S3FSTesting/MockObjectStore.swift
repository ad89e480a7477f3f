// MockObjectStore: an in-memory bucket that answers like S3, for tests of the core without a server.
//
// Keys are kept sorted by their UTF-8 bytes, as S3 sorts them, and LIST follows ListObjectsV2: prefix, delimiter
// (keys past the delimiter fold into one common prefix), max-keys pages with opaque continuation tokens, and
// start-after. Every call is recorded, so a test can assert "no S3 call" or "exactly one GET". Each put makes a
// new version with its own quoted ETag and a later Last-Modified, so a replaced object is detectable by If-Match.
import ObjectStore
import Synchronization

public final class MockObjectStore: ObjectStore {
    public let bucket: String
    /// The most keys plus common prefixes one LIST page returns, whatever max-keys asks (S3 caps at 1000).
    public let pageLimit: Int
    private let state = Mutex(MockBucket())
    private let multipart = Mutex(MockMultipart())

    public init(bucket: String = "mock-bucket", pageLimit: Int = 1000) {
        self.bucket = bucket
        self.pageLimit = pageLimit
    }

    // MARK: - Changing the bucket (not recorded as calls)

    /// Stores a new version of `key`: a fresh ETag and, unless given, a Last-Modified one second after the last put.
    @discardableResult
    public func put(_ key: String, _ bytes: [UInt8], lastModified: Double? = nil) -> ObjectInfo {
        state.withLock { $0.put(key, bytes, lastModified: lastModified) }
    }

    @discardableResult
    public func put(_ key: String, _ text: String, lastModified: Double? = nil) -> ObjectInfo {
        put(key, Array(text.utf8), lastModified: lastModified)
    }

    /// Overwrites an existing object with a new version, as another client writing to the bucket would.
    @discardableResult
    public func replace(_ key: String, with bytes: [UInt8]) -> ObjectInfo {
        precondition(object(key) != nil, "replace of missing key \(key)")
        return put(key, bytes)
    }

    public func delete(_ key: String) {
        state.withLock { $0.delete(key) }
    }

    /// Runs `body` on the bucket and the multipart uploads, both locked (always in this order).
    func withBucket<R, E: Error>(_ body: (inout MockBucket, inout MockMultipart) throws(E) -> R) throws(E) -> R {
        try state.withLock { (bucket: inout MockBucket) throws(E) -> R in
            try multipart.withLock { (uploads: inout MockMultipart) throws(E) -> R in try body(&bucket, &uploads) }
        }
    }

    /// Multipart uploads started and neither completed nor aborted.
    public var pendingMultipartUploads: [MultipartUploadInfo] { multipart.withLock { $0.list(prefix: "") } }

    // MARK: - Inspecting

    /// The current metadata of `key`, without recording a call.
    public func object(_ key: String) -> ObjectInfo? { state.withLock { $0.object(key)?.info } }

    /// Every key, in S3 order.
    public var keys: [String] { state.withLock { $0.sortedKeys } }

    /// Every call made through the `ObjectStore` protocol, oldest first.
    public var calls: [ObjectStoreCall] { state.withLock { $0.calls } }

    /// Calls of `operation` made so far.
    public func callCount(_ operation: ObjectStoreOperation) -> Int {
        state.withLock { $0.calls.count { $0.operation == operation } }
    }

    /// Calls of every operation made so far.
    public var totalCallCount: Int { state.withLock { $0.calls.count } }

    public func resetCalls() { state.withLock { $0.calls.removeAll() } }

    // MARK: - ObjectStore

    public func list(_ request: ListRequest) async throws(ObjectStoreError) -> ListPage {
        let pageLimit = self.pageLimit
        return try state.withLock { (bucket: inout MockBucket) throws(ObjectStoreError) -> ListPage in
            bucket.calls.append(.list(request))
            return try bucket.listPage(request, pageLimit: pageLimit)
        }
    }

    public func head(key: String) async throws(ObjectStoreError) -> ObjectInfo {
        try state.withLock { (bucket: inout MockBucket) throws(ObjectStoreError) -> ObjectInfo in
            bucket.calls.append(.head(key: key))
            guard let object = bucket.object(key) else { throw .stub(.noSuchKey) }
            return object.info
        }
    }

    public func get(key: String, range: ByteRange?, ifMatch: ETag?) async throws(ObjectStoreError) -> [UInt8] {
        try state.withLock { (bucket: inout MockBucket) throws(ObjectStoreError) -> [UInt8] in
            bucket.calls.append(.get(key: key, range: range, ifMatch: ifMatch))
            return try bucket.read(key, range: range, ifMatch: ifMatch)
        }
    }
}
