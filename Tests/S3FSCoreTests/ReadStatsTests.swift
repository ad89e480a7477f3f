import ObjectStore
import Observability
@testable import S3FSCore
import S3FSTesting
import Testing

/// What ReadStats tells operators: every byte answered counted once, by where it came from, and every read in
/// the stall histogram (a read answered from memory with a stall of 0).
@Suite struct ReadStatsTests {
    static let size = 300 << 10
    let store = MockObjectStore()
    let fs: FileSystem

    init() {
        store.put("f", Pipeline.content(Self.size, seed: 3))
        fs = Pipeline.fileSystem(store)
    }

    private func readAll(chunk: Int = 32 << 10) async throws -> Int {
        let handle = try await fs.openFile("f")
        defer { fs.release(handle: handle) }
        var total = 0
        while true {
            let piece = try await fs.read(handle: handle, offset: UInt64(total), size: chunk)
            if piece.count == 0 { return total }
            total += piece.count
        }
    }

    @Test func everyByteIsCountedOnceBySource() async throws {
        #expect(try await readAll() == Self.size)
        let stats = fs.readStatistics
        #expect(stats.bytesFromMemory + stats.bytesFromS3 == UInt64(Self.size))
        #expect(stats.bytesFromS3 > 0)
        #expect(stats.bytesFromStaging == 0)
        #expect(stats.stallBuckets.reduce(0, +) == stats.readsFromMemory + stats.readsThatWaited)
        #expect(stats.stallBuckets[0] >= stats.readsFromMemory)
    }

    @Test func cachedBlocksAreServedFromMemoryWithoutAStall() async throws {
        let handle = try await fs.openFile("f")
        let first = try await fs.read(handle: handle, offset: 0, size: 4096)
        let before = fs.readStatistics
        // the same bytes again, from the block the first read fetched
        let again = try await fs.read(handle: handle, offset: 0, size: 4096)
        fs.release(handle: handle)
        let after = fs.readStatistics
        #expect(again.bytes == first.bytes)
        #expect(after.bytesFromMemory - before.bytesFromMemory == 4096)
        #expect(after.bytesFromS3 == before.bytesFromS3)
        #expect(after.stallBuckets[0] - before.stallBuckets[0] == 1)
    }
}
