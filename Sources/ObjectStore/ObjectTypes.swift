// Plain values that cross the ObjectStore seam.

/// An entity tag as the server sent it, quotes included (`"9b2cf5…"`); compared byte for byte.
public struct ETag: Hashable, Sendable, CustomStringConvertible {
    public let value: String
    public init(_ value: String) { self.value = value }
    public var description: String { value }
}

/// What the server says about one object, from LIST or HEAD.
public struct ObjectInfo: Hashable, Sendable {
    public var key: String
    public var size: UInt64
    /// Last-Modified, in seconds since the Unix epoch (S3 gives whole seconds in HEAD, milliseconds in LIST).
    public var lastModified: Double
    public var etag: ETag

    public init(key: String, size: UInt64, lastModified: Double, etag: ETag) {
        self.key = key
        self.size = size
        self.lastModified = lastModified
        self.etag = etag
    }
}

/// A request for one page of ListObjectsV2.
public struct ListRequest: Hashable, Sendable {
    public var prefix: String
    /// "/" to group keys into common prefixes (directories); nil for a flat listing.
    public var delimiter: String?
    public var continuationToken: String?
    public var startAfter: String?
    /// 1...1000; the server may return fewer.
    public var maxKeys: Int

    public init(
        prefix: String, delimiter: String? = "/", continuationToken: String? = nil, startAfter: String? = nil,
        maxKeys: Int = 1000
    ) {
        self.prefix = prefix
        self.delimiter = delimiter
        self.continuationToken = continuationToken
        self.startAfter = startAfter
        self.maxKeys = maxKeys
    }
}

/// One page of ListObjectsV2.
public struct ListPage: Hashable, Sendable {
    public var objects: [ObjectInfo]
    /// Full prefixes ending in the delimiter ("dir/sub/").
    public var commonPrefixes: [String]
    /// Present when the listing is truncated: pass it back for the next page.
    public var nextContinuationToken: String?
    /// Entries of this page the store could not take as the server sent them; one bad entry never fails a page.
    public var anomalies: [ListAnomaly]

    public init(
        objects: [ObjectInfo], commonPrefixes: [String], nextContinuationToken: String?, anomalies: [ListAnomaly] = []
    ) {
        self.objects = objects
        self.commonPrefixes = commonPrefixes
        self.nextContinuationToken = nextContinuationToken
        self.anomalies = anomalies
    }
}

/// One LIST entry that was left out of its page (a key that is not UTF-8, a size that is not a size) or kept with a
/// stand-in value (a LastModified that is not a time: 0, the epoch). The filesystem logs each key once.
public struct ListAnomaly: Hashable, Sendable {
    /// The key or common prefix; as the server sent it (percent-encoded) when it could not be decoded.
    public var key: String
    public var problem: String
    /// True when the entry is not in the page; false when it is, with a stand-in value.
    public var hidden: Bool

    public init(key: String, problem: String, hidden: Bool) {
        self.key = key
        self.problem = problem
        self.hidden = hidden
    }
}

/// A half-open byte range [lowerBound, upperBound) of an object.
public struct ByteRange: Hashable, Sendable {
    public let lowerBound: UInt64
    public let upperBound: UInt64

    public init(_ range: Range<UInt64>) {
        lowerBound = range.lowerBound
        upperBound = range.upperBound
    }

    public var count: UInt64 { upperBound - lowerBound }
    /// The HTTP Range header value ("bytes=0-1023"); `count` must be > 0.
    public var httpHeaderValue: String { "bytes=\(lowerBound)-\(upperBound - 1)" }
}
