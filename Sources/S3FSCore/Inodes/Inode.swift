import ObjectStore

/// One file or directory the kernel knows about.
struct Inode: Sendable {
    let number: InodeNumber
    /// Parent, name and key change only by rename.
    var parent: InodeNumber
    var name: String
    let kind: FileAttributes.Kind
    /// The object's key for a file ("data/x.bin"); the prefix for a directory ("data/", "" for the bucket root).
    var key: String
    var size: UInt64
    var mtime: Double
    /// The ETag of the version last seen (files only).
    var etag: ETag?
    /// Lookups the kernel holds: +1 for each lookup or readdirplus entry, −n for each forget.
    var lookupCount: UInt64
    /// Until when the metadata above may be served without asking S3 again.
    var freshUntil: ContinuousClock.Instant
    /// The version whose pages the kernel may still cache from an earlier open.
    var pageCacheETag: ETag? = nil
    /// Handles open on this file.
    var openCount = 0
    /// A directory: until when its last complete listing may answer lookups, including "no such name".
    var listedUntil: ContinuousClock.Instant? = nil
    /// A directory: whether it has ever been listed completely (its children are then the whole directory, as of
    /// that listing, less what the kernel has forgotten since).
    var wasListed = false

    /// No open of this file reached s3mount, so the kernel holds none of its pages, and none is open, so none is
    /// being read into the kernel either.
    var kernelHoldsNoPages: Bool { pageCacheETag == nil && openCount == 0 }
}

extension ObjectInfo {
    /// Last-Modified in whole seconds. LIST gives milliseconds and HEAD whole seconds; one object must show one
    /// mtime whichever answered last, or the kernel (auto_inval_data) drops its cached pages on every refresh.
    var wholeSecondMtime: Double { lastModified.rounded(.down) }
}

/// What S3 says a name in a directory is, before it becomes an inode.
struct ResolvedEntry: Sendable, Hashable {
    var name: String
    var kind: FileAttributes.Kind
    var key: String
    var size: UInt64
    var mtime: Double
    var etag: ETag?

    static func file(name: String, object: ObjectInfo) -> ResolvedEntry {
        ResolvedEntry(
            name: name, kind: .file, key: object.key, size: object.size, mtime: object.wholeSecondMtime,
            etag: object.etag)
    }

    static func directory(name: String, prefix: String, mtime: Double) -> ResolvedEntry {
        ResolvedEntry(name: name, kind: .directory, key: prefix, size: 0, mtime: mtime, etag: nil)
    }
}
