// TruncatingStore: wraps a store; each GET delivers only the first `cutAfter` bytes of its body and then fails
// with `error`, as a gateway that dies or resets mid-transfer does. For tests of continuing a read elsewhere.
import ObjectStore
import Synchronization

public final class TruncatingStore: WrappingStore {
    public let wrapped: any ObjectStore
    public let cutAfter: Int
    public let error: ObjectStoreError
    private let ranges = Mutex<[ByteRange?]>([])

    public init(wrapping store: any ObjectStore, cutAfter: Int, error: ObjectStoreError) {
        wrapped = store
        self.cutAfter = cutAfter
        self.error = error
    }


    /// The ranges GETs asked for, oldest first.
    public var requestedRanges: [ByteRange?] { ranges.withLock { $0 } }

    public func list(_ request: ListRequest) async throws(ObjectStoreError) -> ListPage {
        try await wrapped.list(request)
    }

    public func head(key: String) async throws(ObjectStoreError) -> ObjectInfo {
        try await wrapped.head(key: key)
    }

    public func get(key: String, range: ByteRange?, ifMatch: ETag?) async throws(ObjectStoreError) -> [UInt8] {
        ranges.withLock { $0.append(range) }
        let bytes = try await wrapped.get(key: key, range: range, ifMatch: ifMatch)
        guard bytes.count > cutAfter else { return bytes }
        throw error
    }

    public func get(key: String, range: ByteRange?, ifMatch: ETag?, into sink: any ByteSink)
        async throws(ObjectStoreError)
    {
        ranges.withLock { $0.append(range) }
        let bytes = try await wrapped.get(key: key, range: range, ifMatch: ifMatch)
        bytes.prefix(cutAfter).withUnsafeBytes { sink.receive($0) }
        if bytes.count > cutAfter { throw error }
    }
}
