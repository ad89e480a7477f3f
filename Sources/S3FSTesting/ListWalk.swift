// One ListObjectsV2 page being built: which keys to skip, how keys fold into common prefixes, when to stop.
import ObjectStore

struct ListWalk {
    private let prefix: [UInt8]
    private let delimiter: [UInt8]
    private let limit: Int
    /// Keys up to and including this one were returned by an earlier page or excluded by start-after.
    private let marker: String?
    /// The marker is a common prefix: every key under it was returned already.
    private let markerIsPrefix: Bool
    private var lastPrefix: String?
    private var lastItem: (name: String, isPrefix: Bool)?
    private(set) var page = ListPage(objects: [], commonPrefixes: [], nextContinuationToken: nil)

    init(request: ListRequest, limit: Int) throws(ObjectStoreError) {
        prefix = Array(request.prefix.utf8)
        delimiter = Array((request.delimiter ?? "").utf8)
        self.limit = limit
        if let token = request.continuationToken {
            guard let decoded = Self.decode(token) else { throw .stub(ServiceError.Kind.other) }
            (marker, markerIsPrefix) = decoded
        } else {
            (marker, markerIsPrefix) = (request.startAfter, false)
        }
    }

    /// The first key the walk may need to look at.
    var startKey: String { marker ?? "" }

    /// Takes `object` (whose key starts with the prefix) into the page; false once the page is full and more follows.
    mutating func offer(_ object: ObjectInfo) -> Bool {
        let key = object.key
        let bytes = Array(key.utf8)
        if let marker {
            if !MockBucket.precedes(marker, key) { return true }
            if markerIsPrefix, key.utf8.starts(with: marker.utf8) { return true }
        }
        if let end = Self.end(of: delimiter, in: bytes, from: prefix.count) {
            let commonPrefix = String(decoding: bytes[..<end], as: UTF8.self)
            if let lastPrefix, commonPrefix.utf8.elementsEqual(lastPrefix.utf8) { return true }
            guard take(commonPrefix, isPrefix: true) else { return false }
            page.commonPrefixes.append(commonPrefix)
            lastPrefix = commonPrefix
        } else {
            guard take(key, isPrefix: false) else { return false }
            page.objects.append(object)
        }
        return true
    }

    /// Counts one item against max-keys; when the page is already full, ends it with a token instead.
    private mutating func take(_ name: String, isPrefix: Bool) -> Bool {
        if page.objects.count + page.commonPrefixes.count >= limit {
            if let lastItem { page.nextContinuationToken = Self.encode(lastItem) }
            return false
        }
        lastItem = (name, isPrefix)
        return true
    }

    /// Where the first `delimiter` after `start` ends in `bytes`, or nil.
    private static func end(of delimiter: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard !delimiter.isEmpty, bytes.count >= start + delimiter.count else { return nil }
        for index in start...(bytes.count - delimiter.count)
        where bytes[index..<index + delimiter.count].elementsEqual(delimiter) {
            return index + delimiter.count
        }
        return nil
    }

    private static func encode(_ item: (name: String, isPrefix: Bool)) -> String {
        "mock-token:" + (item.isPrefix ? "P" : "O") + item.name
    }

    private static let tokenHeader = Array("mock-token:".utf8)

    private static func decode(_ token: String) -> (String, Bool)? {
        let bytes = Array(token.utf8)
        guard bytes.starts(with: tokenHeader), bytes.count > tokenHeader.count else { return nil }
        let kind = bytes[tokenHeader.count]
        guard kind == UInt8(ascii: "P") || kind == UInt8(ascii: "O") else { return nil }
        return (String(decoding: bytes[(tokenHeader.count + 1)...], as: UTF8.self), kind == UInt8(ascii: "P"))
    }
}
