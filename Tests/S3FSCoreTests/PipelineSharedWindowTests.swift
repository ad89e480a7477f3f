import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

/// Handles reading ahead at once share half the memory budget for it, so several sequential readers never fill
/// the budget with read-ahead (a demand read would then evict another reader's unread blocks, to be fetched again).
@Suite struct PipelineSharedWindowTests {
    static let size = 1 << 20
    let store = MockObjectStore()
    let fs: FileSystem

    init() {
        for index in 0..<4 { store.put("f\(index)", Pipeline.content(Self.size, seed: UInt64(index + 1))) }
        // A first window of 512 KiB (kernel read-ahead 512 KiB, capped by --max-prefetch 512 KiB) in a 2 MiB budget.
        fs = Pipeline.fileSystem(store, reads: Pipeline.reads(memoryLimit: 2 << 20, kernelReadAhead: 512 << 10))
    }

    func furthestGet(_ key: String) -> UInt64 { Pipeline.getRanges(store, key).map(\.upperBound).max() ?? 0 }

    @Test func eachNewSequentialReaderReadsAheadWithinItsShare() async throws {
        var handles: [UInt64] = []
        for index in 0..<4 {
            let handle = try await fs.openFile("f\(index)")
            handles.append(handle)
            let bytes = try await fs.read(handle: handle, offset: 0, size: 4096).bytes
            #expect(bytes == Array(Pipeline.content(Self.size, seed: UInt64(index + 1))[..<4096]))
        }
        #expect(fs.readingAhead.load(ordering: .relaxed) == 4)
        // Alone, the first reader read ahead its whole window (512 KiB past its first 4 KiB, in 64 KiB blocks); the
        // fourth, with three others reading ahead, its share of half the budget (2 MiB / 2 / 3 = 341 KiB).
        #expect(furthestGet("f0") == 576 << 10)
        #expect(furthestGet("f3") == 384 << 10, "\(Pipeline.getRanges(store, "f3"))")
        for handle in handles { fs.release(handle: handle) }
        #expect(fs.readingAhead.load(ordering: .relaxed) == 0)
    }
}
