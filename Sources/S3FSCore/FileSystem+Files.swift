// File operations: open, read, release. Reads are ranged GETs of the version pinned at open (If-Match).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ObjectStore

extension FileSystem {
    public func open(_ number: InodeNumber, flags: Int32) async throws(FSError) -> OpenReply {
        guard var inode = inodes.inode(number) else { throw .notFound("open \(number)") }
        guard inode.kind == .file else { throw FSError(errno: EISDIR, "open \(inode.key): is a directory") }
        if flags & O_ACCMODE != O_RDONLY || flags & O_TRUNC != 0 {
            throw .readOnly("open \(inode.key) for writing")
        }
        if inode.freshUntil <= .now || inode.etag == nil { inode = try await refreshFile(inode) }
        guard let etag = inode.etag else { throw FSError(errno: EIO, "open \(inode.key): the server sent no ETag") }
        let handle = FileHandle(inode: number, key: inode.key, size: inode.size, etag: etag)
        return OpenReply(handle: files.insert(handle), keepCache: false)
    }

    /// Up to `size` bytes from `offset`; fewer only at the end of the file.
    public func read(handle: UInt64, offset: UInt64, size: Int) async throws(FSError) -> [UInt8] {
        guard let file = files.get(handle) else { throw .badHandle(handle) }
        guard offset < file.size, size > 0 else { return [] }
        let range = ByteRange(offset..<min(file.size, offset + UInt64(size)))
        do {
            return try await store.get(key: file.key, range: range, ifMatch: file.etag)
        } catch {
            throw FSError(error, operation: "read", key: file.key)
        }
    }

    public func release(handle: UInt64) {
        files.remove(handle)
    }
}
