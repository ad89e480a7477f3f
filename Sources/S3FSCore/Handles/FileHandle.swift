import ObjectStore

/// An open file: the object version it reads, pinned at open. Every read asks for exactly that ETag, so an object
/// replaced while open fails with ESTALE instead of mixing bytes of two versions.
struct FileHandle: Sendable {
    let inode: InodeNumber
    let key: String
    let size: UInt64
    let etag: ETag
}
