// Shared helpers: a FileSystem over any store, errno capture, and a full directory read through small replies.
import Logging
import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum TestConfig {
    /// Metadata stays fresh for the whole test.
    static let longTTL = FileSystemConfig(uid: 1234, gid: 5678, fileMode: 0o640, dirMode: 0o750, metadataTTL: 3600)
    /// Metadata is stale at once: every operation asks S3 again.
    static let noTTL = FileSystemConfig(uid: 1234, gid: 5678, fileMode: 0o640, dirMode: 0o750, metadataTTL: 0)
    static let mountTime: Double = 1_600_000_000
    /// Four-byte blocks and no read-ahead: every read beyond what was already read goes to the store.
    static let tinyBlocks = ReadPipelineConfig(
        blockSize: 4, maxPrefetch: 0, memoryLimit: 1 << 20, maxConcurrentFetches: 4, kernelReadAhead: 0)
}

func makeFileSystem(_ store: any ObjectStore, config: FileSystemConfig = TestConfig.longTTL) -> FileSystem {
    FileSystem(
        store: store, config: config, logger: Logger(label: "s3mount.test") { _ in SwiftLogNoOpLogHandler() },
        mountTime: TestConfig.mountTime)
}

/// The errno `body` failed with, or nil when it succeeded.
func thrownErrno<T>(_ body: () async throws -> T) async -> Int32? {
    do {
        _ = try await body()
        return nil
    } catch let error as FSError {
        return error.errno
    } catch {
        Issue.record("threw \(error), not an FSError")
        return nil
    }
}

/// Reads a whole directory as the kernel does: opendir, then readdir from each reply's last offset until an empty
/// reply, each reply holding at most `capacity` entries.
func readWholeDirectory(
    _ fs: FileSystem, _ directory: InodeNumber, capacity: Int = 3, plus: Bool = false
) async throws(FSError) -> [DirectoryEntry] {
    precondition(capacity > 0)
    let handle = try await fs.opendir(directory)
    defer { fs.releasedir(handle: handle) }
    var all: [DirectoryEntry] = []
    var offset: UInt64 = 0
    while true {
        var replier = ArrayDirectoryReplier(capacity: capacity)
        try await fs.readdir(handle: handle, offset: offset, plus: plus, into: &replier)
        guard !replier.entries.isEmpty else { return all }
        all += replier.entries
        offset = replier.nextOffset(after: offset)
    }
}

/// Opens `name` in `parent` read-only and reads all of it in `chunk`-byte reads.
func readWholeFile(_ fs: FileSystem, parent: InodeNumber = .root, _ name: String, chunk: Int = 4096)
    async throws(FSError) -> [UInt8]
{
    let entry = try await fs.lookup(parent: parent, name: name)
    let handle = try await fs.open(entry.attributes.inode, flags: O_RDONLY).handle
    defer { fs.release(handle: handle) }
    var bytes: [UInt8] = []
    while true {
        let piece = try await fs.read(handle: handle, offset: UInt64(bytes.count), size: chunk).bytes
        if piece.isEmpty { return bytes }
        bytes += piece
    }
}
