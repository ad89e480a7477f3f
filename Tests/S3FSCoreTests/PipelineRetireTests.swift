#if canImport(Glibc)
import Glibc
#endif
import CSystem
import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

/// Blocks a reader has handed to the kernel's page cache leave the block cache, so a long sequential read cycles
/// about its read-ahead window of memory; small objects take their own size, not a block.
@Suite struct PipelineRetireTests {
    static let size = 64 * Pipeline.block

    @Test func aLongSequentialReadHoldsAboutItsWindowNotTheWholeLimit() async throws {
        let store = MockObjectStore()
        store.put("big", Pipeline.content(Self.size, seed: 9))
        let maxPrefetch = 8 * Pipeline.block
        let fs = Pipeline.fileSystem(store, reads: Pipeline.reads(memoryLimit: 64 * Pipeline.block, maxPrefetch: maxPrefetch))
        let handle = try await fs.openFile("big")
        var bytes: [UInt8] = []
        while bytes.count < Self.size {
            bytes += try await fs.read(handle: handle, offset: UInt64(bytes.count), size: 128 << 10).bytes
        }
        #expect(bytes == Pipeline.content(Self.size, seed: 9))
        // The window, the block being read and the one the window is about to start; never the 64-block limit.
        let bound = maxPrefetch + 3 * Pipeline.block
        #expect(fs.budget.peakBytes <= bound, "peak \(fs.budget.peakBytes) > \(bound)")
        #expect(store.callCount(.get) == 64, "each block fetched once")
        fs.release(handle: handle)
    }

    @Test func whileSeveralHandlesReadAFileItsBlocksStayForTheOthers() async throws {
        let store = MockObjectStore()
        let content = Pipeline.content(16 * Pipeline.block, seed: 5)
        store.put("big", content)
        let fs = Pipeline.fileSystem(store, reads: Pipeline.reads(memoryLimit: 64 * Pipeline.block))
        let first = try await fs.openFile("big")
        let second = try await fs.openFile("big")
        var offset: UInt64 = 0
        while offset < UInt64(content.count) {
            offset += UInt64(try await fs.read(handle: first, offset: offset, size: 128 << 10).count)
        }
        // The second reader (64 threads of one process reading one file, say) finds every block still cached.
        var bytes: [UInt8] = []
        while bytes.count < content.count {
            bytes += try await fs.read(handle: second, offset: UInt64(bytes.count), size: 128 << 10).bytes
        }
        #expect(bytes == content)
        #expect(store.callCount(.get) == 16)
        fs.release(handle: first)
        fs.release(handle: second)
    }

    @Test func anODirectReaderKeepsWhatItRead() async throws {
        let store = MockObjectStore()
        store.put("big", Pipeline.content(8 * Pipeline.block, seed: 3))
        let fs = Pipeline.fileSystem(store, reads: Pipeline.reads(memoryLimit: 64 * Pipeline.block))
        let inode = try await fs.lookup(parent: .root, name: "big").attributes.inode
        let handle = try await fs.open(inode, flags: O_RDONLY | s3m_o_direct()).handle
        _ = try await fs.read(handle: handle, offset: 0, size: Pipeline.block)
        #expect(fs.listedBlock(0, handle: handle) != nil)
        fs.release(handle: handle)
    }

    @Test func aSmallObjectTakesItsOwnSizeRoundedToAPage() async throws {
        let store = MockObjectStore()
        store.put("small", Pipeline.content(5000, seed: 4))
        let fs = Pipeline.fileSystem(store)
        let handle = try await fs.openFile("small")
        #expect(try await fs.read(handle: handle, offset: 0, size: 4096).bytes == Array(Pipeline.content(5000, seed: 4)[..<4096]))
        let block = try #require(fs.listedBlock(0, handle: handle))
        #expect(block.capacity == 8192)
        #expect(fs.budget.usedBytes == 8192)
        fs.release(handle: handle)
    }
}
