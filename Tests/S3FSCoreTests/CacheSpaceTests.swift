#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import S3FSCore
import Testing

/// CacheSpace's scan counts what writers hold in flight: a temporary file at the bytes its writer reserved, also
/// before any are written.
@Suite final class CacheSpaceTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cache-space-\(UUID())").path

    init() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func write(_ relativePath: String, bytes: Int) throws {
        try Self.write(relativePath, under: directory, bytes: bytes)
    }

    static func write(_ relativePath: String, under directory: String, bytes: Int) throws {
        let path = directory + "/" + relativePath
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: path, contents: Data(count: bytes)))
    }

    @Test func temporaryNamesCarryTheReservedBytesAndTheFinalName() {
        let name = CacheSpace.temporaryName(process: 42, number: 7, bytes: 8_392_704, finalName: "0abc.blk")
        #expect(name.hasPrefix(CacheSpace.temporaryPrefix))
        let parts = CacheSpace.temporaryNameParts(name)
        #expect(parts?.bytes == 8_392_704 && parts?.finalName == "0abc.blk")
        // The names an earlier version wrote carry neither.
        #expect(CacheSpace.temporaryNameParts(CacheSpace.temporaryPrefix + "42-7") == nil)
    }

    @Test func aScanCountsAJustCreatedTemporaryFileAtItsReservedBytes() throws {
        let space = try #require(CacheSpace(directory: directory, capacity: 1 << 30))
        try write("ab/abcd.blk", bytes: 5000)
        // Created, nothing written yet: what a writer's file looks like right after its open.
        let temporary = CacheSpace.temporaryName(process: 1, number: 1, bytes: 1 << 20, finalName: "ab12.blk")
        try write("ab/" + temporary, bytes: 0)
        space.reconcile()
        #expect(space.used == 5000 + (1 << 20), "the counter after a scan: \(space.used)")
    }

    @Test func reservationsOfWritersWhoseFilesAreStillEmptySurviveScans() async throws {
        let space = try #require(CacheSpace(directory: directory, capacity: 64 << 20))
        for index in 0..<200 { try write(String(format: "%02x/block%03d.blk", index, index), bytes: 100_000) }
        // Writers make their temporary files (empty, as right after DiskBlockCache's open) and reserve their bytes
        // while scans run: every reservation must still be in the counter after them. (The scans also add what was
        // reserved while they ran; that interleaving is not forced here.)
        let directory = directory
        let reserved = try await withThrowingTaskGroup(of: Int64.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    var mine: Int64 = 0
                    for number in 0..<50 {
                        let name = String(format: "%02x/", (writer * 50 + number) % 200) + CacheSpace.temporaryName(
                            process: Int32(writer), number: number, bytes: 10_000, finalName: "w\(writer)n\(number).blk")
                        try Self.write(name, under: directory, bytes: 0)
                        if space.reserve(10_000, for: directory + "/" + name) { mine += 10_000 }
                    }
                    return mine
                }
            }
            group.addTask {
                for _ in 0..<40 { space.reconcile() }
                return 0
            }
            return try await group.reduce(0, +)
        }
        #expect(reserved == 2_000_000)
        #expect(space.used >= 20_000_000 + reserved, "the counter lost reservations: \(space.used)")
    }
}
