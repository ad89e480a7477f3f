// Helpers for the write-path tests: a FileSystem with a staging directory of its own, and file-level shortcuts.
import Foundation
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

/// A fresh staging directory under the system temporary directory.
func makeStagingDirectory() -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("s3mount-test-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func writableConfig(staging: String, mode: WriteConfig.Mode = .writeback, partSize: UInt64 = 5 << 20) -> FileSystemConfig {
    var config = TestConfig.longTTL
    config.writes = WriteConfig(mode: mode, stagingDirectory: staging, partSize: partSize, uploadConcurrency: 4)
    return config
}

/// A mounted-like FileSystem whose writes go to `store`; startWrites already ran.
func makeWritableFileSystem(
    _ store: any ObjectStore, staging: String, mode: WriteConfig.Mode = .writeback, partSize: UInt64 = 5 << 20
) async throws -> FileSystem {
    let fs = makeFileSystem(store, config: writableConfig(staging: staging, mode: mode, partSize: partSize))
    _ = try await fs.startWrites()
    return fs
}

extension FileSystem {
    /// Creates `name` in `parent`, writes `bytes` in `chunk`-byte writes and closes it (flush + release).
    @discardableResult
    func writeNewFile(_ name: String, _ bytes: [UInt8], parent: InodeNumber = .root, chunk: Int = 1 << 20) async throws -> InodeNumber {
        let (entry, open) = try await create(parent: parent, name: name, flags: O_WRONLY)
        try writeAll(open.handle, bytes, chunk: chunk)
        try await flush(handle: open.handle)
        release(handle: open.handle)
        return entry.attributes.inode
    }

    func writeAll(_ handle: UInt64, _ bytes: [UInt8], at offset: UInt64 = 0, chunk: Int = 1 << 20) throws {
        var done = 0
        while done < bytes.count {
            let end = min(bytes.count, done + chunk)
            let written = try bytes[done..<end].withUnsafeBytes { try write(handle: handle, offset: offset + UInt64(done), bytes: $0) }
            done += written
        }
    }

    /// Uploads everything owed and fails the test if anything is left after 30 s.
    func drainAll() async {
        let left = await drainWrites(timeout: 30)
        #expect(left == 0, "uploads still pending after the drain")
    }
}

/// `count` deterministic bytes that differ in every 64 KiB (so a part or block in the wrong place is caught), built by
/// copying one computed block: cheap even in a debug build, so these tests leave the CPU to timing-sensitive suites.
func patternBytes(_ count: Int, seed: UInt8 = 7) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count)
    var index = 0
    while bytes.count < count {
        var block = PatternBlock.bytes
        block[0] = UInt8(truncatingIfNeeded: index)
        block[1] = UInt8(truncatingIfNeeded: index >> 8)
        block[2] = seed
        bytes += block.prefix(count - bytes.count)
        index += 1
    }
    return bytes
}

private enum PatternBlock {
    static let bytes: [UInt8] = (0..<(64 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
}

/// The files left in a staging directory's data/ folder.
func stagedDataFiles(_ staging: String) -> [String] {
    (try? FileManager.default.contentsOfDirectory(atPath: staging + "/data")) ?? []
}
