#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

/// The cache tier over a mock store: what one "mount" (a FileSystem) fetched, another one with the same cache
/// directory reads without a GET; bad block files are never served; the directory stays within its capacity.
/// Serialized: one test blocks the tier's writer threads, which every mount in the process shares (no other suite
/// uses them).
@Suite(.serialized) final class CacheTierTests {
    static let size = 5 * Pipeline.block + 1234
    let store = MockObjectStore()
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cache-tier-\(UUID())").path

    init() {
        store.put("data.bin", Pipeline.content(Self.size))
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func mount(capacity: Int64 = 1 << 30, identity: String = "mock", memoryLimit: Int? = nil) -> FileSystem {
        var reads = memoryLimit.map { Pipeline.reads(memoryLimit: $0) } ?? Pipeline.reads()
        reads.cacheTier = CacheTierConfig(directory: directory, capacity: capacity, storeIdentity: identity)
        return Pipeline.fileSystem(store, reads: reads)
    }

    /// Reads through a mount that reads each block once (no read-ahead past the file), until all of its blocks
    /// were stored in the tier.
    func readAndSettle(_ fs: FileSystem, _ name: String = "data.bin") async throws -> [UInt8] {
        let bytes = try await readWholeFile(fs, name, chunk: 64 << 10)
        let blocks = (Self.size + Pipeline.block - 1) / Pipeline.block
        #expect(await eventually(timeout: .seconds(120)) { (fs.cacheTier?.statistics.stored ?? 0) + (fs.cacheTier?.statistics.hits ?? 0) >= blocks })
        return bytes
    }

    func blockFiles() -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: directory)
        return (enumerator?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".blk") }.map { directory + "/" + $0 }
    }

    @Test func aSecondMountReadsWhatTheFirstFetchedWithoutAGet() async throws {
        let first = mount()
        #expect(try await readAndSettle(first) == Pipeline.content(Self.size))
        let fetched = store.callCount(.get)
        #expect(fetched >= 6)
        let second = mount()
        #expect(try await readWholeFile(second, "data.bin", chunk: 64 << 10) == Pipeline.content(Self.size))
        #expect(store.callCount(.get) == fetched, "the second mount fetched again")
        #expect(second.cacheTier?.statistics.hits == 6)
    }

    @Test func aStuckDiskNeverHoldsReadsAndTheBlocksItCannotTakeAreSkippedAndCounted() async throws {
        // Every writer thread of the tier blocked: the disk takes nothing. A memory limit of 4 blocks lets one block
        // wait to be written (a quarter of it).
        let stuck = DispatchSemaphore(value: 0)
        let lanes = 8
        for _ in 0..<lanes { BlockingIO.cacheTierWrites.submit { stuck.wait() } }
        let fs = mount(memoryLimit: 4 * Pipeline.block)
        let read: [UInt8]
        do {
            defer { for _ in 0..<lanes { stuck.signal() } }
            read = try await readWholeFile(fs, "data.bin", chunk: 64 << 10)
        }
        #expect(read == Pipeline.content(Self.size), "the reads finished while no block could be written")
        let blocks = (Self.size + Pipeline.block - 1) / Pipeline.block
        #expect(await eventually(timeout: .seconds(120)) { fs.cacheTier?.statistics.stored == 1 })
        #expect(fs.cacheTier?.statistics.skipped == blocks - 1)
    }

    @Test func twoMountsReadingOneColdFileAtOnceFetchEachBlockOnce() async throws {
        let mounts = [mount(), mount()]
        try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for fs in mounts {
                group.addTask { try await readWholeFile(fs, "data.bin", chunk: 64 << 10) }
            }
            for try await bytes in group { #expect(bytes == Pipeline.content(Self.size)) }
        }
        #expect(store.callCount(.get) == 6, "each of the 6 blocks is fetched by one mount and read from the tier by the other")
        #expect(mounts.reduce(0) { $0 + ($1.cacheTier?.statistics.hits ?? 0) } == 6)
    }

    @Test func randomReadsTakeTheirChunksFromTheTierAndADamagedChunkIsFetched() async throws {
        // Blocks of four 64 KiB chunks, 16 of them; random reads far enough apart to stay random.
        let blockSize = 4 * BlockFileFormat.chunkSize
        let content = Pipeline.content(16 * blockSize, seed: 3)
        store.put("random.bin", content)
        func randomMount() -> FileSystem {
            var reads = Pipeline.reads()
            reads.blockSize = blockSize
            reads.cacheTier = CacheTierConfig(directory: directory, capacity: 1 << 30, storeIdentity: "mock")
            return Pipeline.fileSystem(store, reads: reads)
        }
        let writer = randomMount()
        #expect(try await readWholeFile(writer, "random.bin", chunk: 64 << 10) == content)
        #expect(await eventually(timeout: .seconds(120)) { writer.cacheTier?.statistics.stored == 16 })
        let fetched = store.callCount(.get)

        let reader = randomMount()
        let handle = try await reader.openFile("random.bin")
        // Two of them across chunk boundaries.
        let offsets = [12 * blockSize + 65_000, 3 * blockSize + 200_000, 9 * blockSize + 10, 131_000]
        for offset in offsets {
            let bytes = try await reader.read(handle: handle, offset: UInt64(offset), size: 1000).bytes
            #expect(bytes == Array(content[offset..<offset + 1000]), "read at \(offset)")
        }
        #expect(store.callCount(.get) == fetched, "random reads went to the store although the tier holds their blocks")
        #expect(reader.cacheTier?.statistics.hits == offsets.count)

        // A flipped byte in the last chunk of every block: a read there is answered by a GET and the file dropped;
        // a read of another chunk of a block still comes from the tier.
        for path in blockFiles() {
            let file = try #require(FileHandle(forUpdatingAtPath: path))
            let end = try file.seekToEnd()
            try file.seek(toOffset: end - 10)
            let byte = try #require(try file.read(upToCount: 1)).first!
            try file.seek(toOffset: end - 10)
            try file.write(contentsOf: [byte ^ 0x01])
            try file.close()
        }
        let again = randomMount()
        let last = try await again.openFile("random.bin")
        let good = 6 * blockSize + 1000
        #expect(try await again.read(handle: last, offset: UInt64(good), size: 500).bytes == Array(content[good..<good + 500]))
        #expect(store.callCount(.get) == fetched)
        let bad = 13 * blockSize - 20
        #expect(try await again.read(handle: last, offset: UInt64(bad), size: 15).bytes == Array(content[bad..<bad + 15]))
        #expect(again.cacheTier?.statistics.dropped == 1)
        #expect(store.callCount(.get) == fetched + 1)
    }

    @Test func aBlockFileOfAnotherFormatVersionIsReplacedQuietly() async throws {
        _ = try await readAndSettle(mount())
        let older = try #require(blockFiles().sorted().first)
        let file = try #require(FileHandle(forUpdatingAtPath: older))
        try file.write(contentsOf: Array("S3MBLK01".utf8))
        try file.close()
        let fetched = store.callCount(.get)
        let reader = mount()
        #expect(try await readWholeFile(reader, "data.bin", chunk: 64 << 10) == Pipeline.content(Self.size))
        #expect(store.callCount(.get) == fetched + 1)
        #expect(reader.cacheTier?.statistics.dropped == 0, "an older s3mount's file is not damage")
        #expect(await eventually(timeout: .seconds(120)) { reader.cacheTier?.statistics.stored == 1 })
    }

    @Test func anotherEndpointSetOrAReplacedObjectIsNeverServedFromTheTier() async throws {
        _ = try await readAndSettle(mount())
        let fetched = store.callCount(.get)
        _ = try await readWholeFile(mount(identity: "another endpoint"), "data.bin", chunk: 64 << 10)
        #expect(store.callCount(.get) > fetched)
        store.replace("data.bin", with: Pipeline.content(Self.size, seed: 9))
        #expect(try await readWholeFile(mount(), "data.bin", chunk: 64 << 10) == Pipeline.content(Self.size, seed: 9))
    }

    @Test func aFlippedByteOrATruncatedFileIsDroppedAndFetchedAgain() async throws {
        _ = try await readAndSettle(mount())
        let files = blockFiles().sorted()
        try #require(files.count == 6)
        let flipped = try #require(FileHandle(forUpdatingAtPath: files[0]))
        try flipped.seek(toOffset: 500)
        let byte = try #require(try flipped.read(upToCount: 1)).first!
        try flipped.seek(toOffset: 500)
        try flipped.write(contentsOf: [byte ^ 0x40])
        try flipped.close()
        #expect(truncate(files[1], 100) == 0)
        let fetched = store.callCount(.get)
        let reader = mount()
        #expect(try await readWholeFile(reader, "data.bin", chunk: 64 << 10) == Pipeline.content(Self.size))
        #expect(reader.cacheTier?.statistics.dropped == 2)
        #expect(store.callCount(.get) == fetched + 2, "exactly the two bad blocks come from the store again")
    }

    @Test func aBlockRefusedRoomLeavesNoFileBehind() async throws {
        // Room for less than any block: every block's temporary file is made, then its reservation refused.
        let reader = mount(capacity: 1024)
        #expect(try await readWholeFile(reader, "data.bin", chunk: 64 << 10) == Pipeline.content(Self.size))
        let blocks = (Self.size + Pipeline.block - 1) / Pipeline.block
        #expect(await eventually { reader.cacheTier?.statistics.refused == blocks })
        #expect(blockFiles().isEmpty, "files left behind: \(blockFiles())")
    }

    @Test func mountsFillingOneDirectoryStayWithinItsCapacity() async throws {
        // Each mount reads the files of a directory of its own: the walk of a directory it lists prefetches the
        // rest of it, and the three must not fetch (and store) each other's blocks.
        for i in 0..<12 { store.put("m\(i % 3)/f\(i)", Pipeline.content(Pipeline.block, seed: UInt64(i + 10))) }
        let capacity = Int64(4 * (Pipeline.block + 4096))
        let mounts = [mount(capacity: capacity), mount(capacity: capacity), mount(capacity: capacity)]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (m, fs) in mounts.enumerated() {
                group.addTask { () async throws -> Void in
                    let directory = try await fs.lookup(parent: .root, name: "m\(m)").attributes.inode
                    for i in stride(from: m, to: 12, by: 3) {
                        let bytes = try await readWholeFile(fs, parent: directory, "f\(i)", chunk: 64 << 10)
                        #expect(bytes == Pipeline.content(Pipeline.block, seed: UInt64(i + 10)))
                    }
                }
            }
            try await group.waitForAll()
        }
        // Every block's store ends as stored, refused (no room even after eviction) or failed; with room for four
        // blocks and at most three written at once, none may be refused.
        func settled() -> (stored: Int, notKept: Int) {
            mounts.reduce((0, 0)) { sum, fs in
                let counted = fs.cacheTier?.statistics ?? .init()
                return (sum.0 + counted.stored, sum.1 + counted.refused + counted.failures)
            }
        }
        #expect(await eventually(timeout: .seconds(120)) { settled().stored + settled().notKept >= 12 })
        #expect(settled().stored == 12, "\(settled().notKept) blocks were refused or failed")
        let onDisk = blockFiles().reduce(Int64(0)) { total, path in
            total + ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0)
        }
        #expect(onDisk <= capacity + 3 * Int64(Pipeline.block + 4096), "\(onDisk) bytes of blocks for a \(capacity) cache")
        #expect(onDisk > 0)
    }

    /// The eviction policy in the product: a block served from the tier carries the reuse mark and outlives an
    /// eviction that takes a never-served block, even one more recent (plain least-recently-used would take the
    /// served block first here).
    @Test func aBlockServedFromTheTierSurvivesAnEvictionThatTakesANeverServedNewerOne() async throws {
        let seeds: [String: UInt64] = ["hot": 21, "cold": 22, "new1": 23, "new2": 24]
        for (name, seed) in seeds { store.put(name, Pipeline.content(Pipeline.block, seed: seed)) }
        // Room for three blocks: the fourth store evicts down to 90 % of that less one block, which takes two.
        let capacity = Int64(3 * (Pipeline.block + 1024))
        func readAndWaitForTheStore(_ fs: FileSystem, _ name: String, stored: Int) async throws {
            _ = try await readWholeFile(fs, name, chunk: 64 << 10)
            #expect(await eventually(timeout: .seconds(120)) { (fs.cacheTier?.statistics.stored ?? 0) >= stored })
        }
        let writer = mount(capacity: capacity)
        try await readAndWaitForTheStore(writer, "hot", stored: 1)
        let hotFile = try #require(blockFiles().first)
        try await readAndWaitForTheStore(writer, "cold", stored: 2)
        let coldFile = try #require(blockFiles().first { $0 != hotFile })

        let reader = mount(capacity: capacity)
        #expect(try await readWholeFile(reader, "hot", chunk: 64 << 10) == Pipeline.content(Pipeline.block, seed: 21))
        #expect(reader.cacheTier?.statistics.hits == 1)
        var status = stat()
        #expect(stat(hotFile, &status) == 0 && status.st_mode & S_ISVTX != 0, "the hit did not set the reuse mark")
        #expect(stat(coldFile, &status) == 0 && status.st_mode & S_ISVTX == 0)
        // The served block was last used an hour ago, the never-served one half an hour ago.
        for (file, age) in [(hotFile, 3600), (coldFile, 1800)] {
            var times = [timespec(tv_sec: time(nil) - age, tv_nsec: 0), timespec(tv_sec: time(nil) - age, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, file, &times, 0) == 0)
        }

        let filler = mount(capacity: capacity)
        try await readAndWaitForTheStore(filler, "new1", stored: 1)
        try await readAndWaitForTheStore(filler, "new2", stored: 2)
        #expect(FileManager.default.fileExists(atPath: hotFile), "the block served from the tier was evicted")
        #expect(!FileManager.default.fileExists(atPath: coldFile), "the never-served block outlived the eviction")
        #expect(blockFiles().count == 2)
    }

    @Test func anUnusableDirectoryTurnsTheTierOffAndReadsGoOn() async throws {
        var reads = Pipeline.reads()
        reads.cacheTier = CacheTierConfig(directory: "/proc/no-such-place/blocks", capacity: 1 << 30, storeIdentity: "m")
        let fs = Pipeline.fileSystem(store, reads: reads)
        #expect(fs.cacheTier == nil)
        #expect(try await readWholeFile(fs, "data.bin", chunk: 64 << 10) == Pipeline.content(Self.size))
    }

    @Test func aBlockLargerThanTheCapacityIsNotKeptAndReadsGoOn() async throws {
        let fs = mount(capacity: 1000)
        #expect(try await readWholeFile(fs, "data.bin", chunk: 64 << 10) == Pipeline.content(Self.size))
        #expect(blockFiles().isEmpty)
    }
}
