import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

/// One memory budget over everything the read pipeline holds, whatever the number of readers.
@Suite struct PipelineBudgetTests {
    static let files = 50
    static let size = 4 * Pipeline.block
    static let memoryLimit = 1 << 20
    static let chunk = 16 << 10

    @Test func fiftyHandlesReadingAtOnceStayWithinTheLimitPlusTheirDemandBlocks() async throws {
        let store = MockObjectStore()
        for index in 0..<Self.files { store.put("f\(index)", Pipeline.content(Self.size, seed: UInt64(index + 1))) }
        let fs = Pipeline.fileSystem(store, reads: Pipeline.reads(memoryLimit: Self.memoryLimit, maxConcurrent: 8))
        var handles: [UInt64] = []
        for index in 0..<Self.files { handles.append(try await fs.openFile("f\(index)")) }
        let mismatches = await withTaskGroup(of: Int.self) { group in
            for (index, handle) in handles.enumerated() {
                group.addTask {
                    var bytes: [UInt8] = []
                    while let piece = try? await fs.read(handle: handle, offset: UInt64(bytes.count), size: Self.chunk)
                        .bytes, !piece.isEmpty
                    {
                        bytes += piece
                    }
                    return bytes == Pipeline.content(Self.size, seed: UInt64(index + 1)) ? 0 : 1
                }
            }
            return await group.reduce(0, +)
        }
        #expect(mismatches == 0)
        // A 16 KiB read needs one block; each of the 50 readers has at most one demand read in flight.
        let bound = Self.memoryLimit + Self.files * Pipeline.block
        #expect(fs.budget.peakBytes <= bound, "peak \(fs.budget.peakBytes) > \(bound)")
        #expect(fs.budget.peakBytes > 0)
        let gets = store.callCount(.get)
        #expect(gets >= Self.files * 4)
        for handle in handles { fs.release(handle: handle) }
        fs.evictEverything()
        #expect(fs.budget.usedBytes == 0)
        print("50 handles: peak \(fs.budget.peakBytes) bytes (limit \(Self.memoryLimit)), \(gets) GETs for \(Self.files * 4) blocks")
    }

    @Test func memoryReturnsToTheBudgetOnceHandlesAreReleasedAndTheCacheEmptied() async throws {
        let store = MockObjectStore()
        let size = 10 * Pipeline.block + 123
        store.put("a", Pipeline.content(size, seed: 1))
        store.put("b", Pipeline.content(size, seed: 2))
        let fs = Pipeline.fileSystem(store)
        let a = try await fs.openFile("a")
        let b = try await fs.openFile("b")
        // a read to the end, b read half way (its read-ahead still listed), a random read of b.
        var offset: UInt64 = 0
        while offset < UInt64(size) { offset += UInt64(try await fs.read(handle: a, offset: offset, size: 50_000).count) }
        for step in 0..<5 { _ = try await fs.read(handle: b, offset: UInt64(step * 65_536), size: 65_536) }
        let other = try await fs.openFile("b")
        _ = try await fs.read(handle: other, offset: 600_000, size: 10)
        #expect(await eventually { fs.fetcher.scheduler.runningCount == 0 })
        #expect(fs.budget.usedBytes > 0)
        for handle in [a, b, other] { fs.release(handle: handle) }
        fs.evictEverything()
        #expect(fs.fetcher.cache.count == 0)
        #expect(fs.budget.usedBytes == 0)
    }
}
