// The state behind MockObjectStore's Mutex: objects, their S3 order, the version counter and the call log.
import ObjectStore

struct MockBucket: Sendable {
    struct StoredObject: Sendable {
        var bytes: [UInt8]
        var info: ObjectInfo
    }

    /// By the bytes of the key: S3 keys are bytes, and Swift's String equality would merge "é" (NFC) with
    /// "e\u{301}" (NFD), two different objects in S3.
    private var objects: [[UInt8]: StoredObject] = [:]
    /// Every key, sorted by UTF-8 bytes.
    private(set) var sortedKeys: [String] = []
    var calls: [ObjectStoreCall] = []
    private var version: UInt64 = 0
    private var clock: Double = 1_700_000_000

    func object(_ key: String) -> StoredObject? { objects[Array(key.utf8)] }

    mutating func put(_ key: String, _ bytes: [UInt8], lastModified: Double?) -> ObjectInfo {
        version += 1
        clock = max(clock + 1, lastModified ?? 0)
        let hex = String(version, radix: 16)
        let etag = ETag("\"" + String(repeating: "0", count: max(0, 32 - hex.count)) + hex + "\"")
        let info = ObjectInfo(key: key, size: UInt64(bytes.count), lastModified: lastModified ?? clock, etag: etag)
        if object(key) == nil { sortedKeys.insert(key, at: Self.firstIndex(in: sortedKeys, notBefore: key)) }
        objects[Array(key.utf8)] = StoredObject(bytes: bytes, info: info)
        return info
    }

    mutating func delete(_ key: String) {
        guard objects.removeValue(forKey: Array(key.utf8)) != nil else { return }
        sortedKeys.remove(at: Self.firstIndex(in: sortedKeys, notBefore: key))
    }

    /// GetObject: If-Match first (412), then the range (416 when it starts at or past the end; clamped at the end).
    func read(_ key: String, range: ByteRange?, ifMatch: ETag?) throws(ObjectStoreError) -> [UInt8] {
        guard let object = object(key) else { throw .stub(.noSuchKey) }
        if let ifMatch, ifMatch != object.info.etag { throw .stub(.preconditionFailed) }
        guard let range else { return object.bytes }
        let size = UInt64(object.bytes.count)
        guard range.lowerBound < range.upperBound, range.lowerBound < size else { throw .stub(.invalidRange) }
        return Array(object.bytes[Int(range.lowerBound)..<Int(min(range.upperBound, size))])
    }

    func listPage(_ request: ListRequest, pageLimit: Int) throws(ObjectStoreError) -> ListPage {
        var walk = try ListWalk(request: request, limit: min(request.maxKeys, pageLimit))
        let prefix = request.prefix
        for key in sortedKeys[Self.firstIndex(in: sortedKeys, notBefore: Self.later(prefix, walk.startKey))...] {
            // Keys sharing the prefix are contiguous and the walk starts at or after the prefix.
            guard key.utf8.starts(with: prefix.utf8), let object = object(key), walk.offer(object.info) else { break }
        }
        return walk.page
    }

    /// The first index whose key does not sort before `key`.
    static func firstIndex(in keys: [String], notBefore key: String) -> Int {
        var low = 0
        var high = keys.count
        while low < high {
            let mid = (low + high) / 2
            if precedes(keys[mid], key) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    static func precedes(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    private static func later(_ a: String, _ b: String) -> String { precedes(a, b) ? b : a }
}
