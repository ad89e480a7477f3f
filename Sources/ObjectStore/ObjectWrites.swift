// The values that cross the ObjectStore seam for writes: upload bodies, write conditions, multipart uploads.
//
// Writes are the S3 operations the write-back path needs: PutObject, the five multipart calls (create, upload
// part, upload part copy, complete, abort) plus ListMultipartUploads to find ones left behind, CopyObject and
// DeleteObject. Bodies come from memory or from a byte range of a staged file, so a multi-GiB upload never has to
// sit in memory.

/// Where an upload's bytes come from.
public enum UploadBody: Sendable, Hashable {
    case bytes([UInt8])
    /// `length` bytes of the file at `path` from `offset`. The range must not change while the request runs.
    case file(path: String, offset: UInt64, length: UInt64)

    /// How many bytes the body holds.
    public var count: UInt64 {
        switch self {
        case .bytes(let bytes): UInt64(bytes.count)
        case .file(_, _, let length): length
        }
    }
}

/// A precondition on a write, checked by the server (412 PreconditionFailed when it does not hold).
public enum WriteCondition: Sendable, Hashable {
    case unconditional
    /// The object must still be this version (If-Match).
    case ifMatch(ETag)
    /// The object must not exist (If-None-Match: *).
    case ifNoneMatch
}

/// The server's name for one multipart upload.
public struct MultipartUploadID: Hashable, Sendable, CustomStringConvertible {
    public let value: String
    public init(_ value: String) { self.value = value }
    public var description: String { value }
}

/// A part already uploaded: its number (1...10,000) and the ETag the server gave it.
public struct CompletedPart: Hashable, Sendable {
    public var number: Int
    public var etag: ETag

    public init(number: Int, etag: ETag) {
        self.number = number
        self.etag = etag
    }
}

/// A multipart upload in progress, as ListMultipartUploads reports it.
public struct MultipartUploadInfo: Hashable, Sendable {
    public var key: String
    public var uploadID: MultipartUploadID
    /// When it was started, in seconds since the Unix epoch (0 when the server did not say).
    public var initiated: Double

    public init(key: String, uploadID: MultipartUploadID, initiated: Double) {
        self.key = key
        self.uploadID = uploadID
        self.initiated = initiated
    }
}

/// S3's limits on uploads.
public enum UploadLimits {
    /// PutObject and CopyObject take at most 5 GiB.
    public static let maxSingleRequestBytes: UInt64 = 5 << 30
    /// Every part but the last must have at least 5 MiB.
    public static let minPartBytes: UInt64 = 5 << 20
    public static let maxPartBytes: UInt64 = 5 << 30
    public static let maxParts = 10_000
    /// A key has at most 1,024 bytes of UTF-8.
    public static let maxKeyBytes = 1024
}
