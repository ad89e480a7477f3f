#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

/// DatasetReadAhead inside the file system, over the mock store: a walk through a directory is served from
/// prefetched blocks, each object is fetched once, and a sparse reader pulls little else.
@Suite struct DatasetReadAheadTests {
    let store = MockObjectStore()
    static let count = 200

    init() {
        for index in 0..<Self.count { store.put(String(format: "data/f%04d", index), Self.content(index)) }
    }

    static func content(_ index: Int) -> [UInt8] {
        (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
    }

    func readFile(_ fs: FileSystem, _ directory: InodeNumber, _ index: Int) async throws -> [UInt8] {
        let inode = try await fs.lookup(parent: directory, name: String(format: "f%04d", index)).attributes.inode
        let handle = try await fs.open(inode, flags: O_RDONLY).handle
        defer { fs.release(handle: handle) }
        return try await fs.read(handle: handle, offset: 0, size: 128 << 10).bytes
    }

    @Test func aListingOrderWalkFetchesEachFileOnceMostlyAhead() async throws {
        let fs = makeFileSystem(store)
        let data = try await fs.lookup(parent: .root, name: "data").attributes.inode
        _ = try await readWholeDirectory(fs, data, capacity: 1000)
        for index in 0..<Self.count {
            #expect(try await readFile(fs, data, index) == Self.content(index))
        }
        let gets = store.callCount(.get)
        #expect(gets == Self.count, "every object fetched once, prefetched or not")
        // The first four reads start the walk; every later file was chosen for prefetch before the job read it.
        let counters = try #require(fs.dataset?.counters)
        #expect(counters.usedFiles == UInt64(Self.count - DatasetWalk.minimumReads), "\(counters)")
        #expect(counters.prefetchedFiles == counters.usedFiles)
    }

    @Test func aSparseRandomReaderPullsLittleElse() async throws {
        let fs = makeFileSystem(store)
        let data = try await fs.lookup(parent: .root, name: "data").attributes.inode
        var generator = SplitMix(seed: 3)
        let picked = Array(Array(0..<Self.count).shuffled(using: &generator).prefix(10))
        for index in picked { #expect(try await readFile(fs, data, index) == Self.content(index)) }
        let counters = try #require(fs.dataset?.counters)
        let wasted = counters.prefetchedBytes - counters.usedBytes
        #expect(Double(wasted) <= 0.1 * Double(store.callCount(.get) * 1000), "\(counters)")
    }

    @Test func filesTheCacheTierHoldsAreLeftToTheirReaders() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dataset-tier-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var config = TestConfig.longTTL
        config.reads.cacheTier = CacheTierConfig(directory: directory, capacity: 1 << 30, storeIdentity: "mock")
        // A first mount, without dataset read-ahead, leaves the first half of the files in the tier.
        var withoutReadAhead = config
        withoutReadAhead.reads.datasetReadAhead = false
        let first = makeFileSystem(store, config: withoutReadAhead)
        let half = Self.count / 2
        let firstData = try await first.lookup(parent: .root, name: "data").attributes.inode
        for index in 0..<half { #expect(try await readFile(first, firstData, index) == Self.content(index)) }
        #expect(await eventually(timeout: .seconds(60)) { first.cacheTier?.statistics.stored == half })
        // A second one walks the whole directory: the first half comes from the tier as its reader asks for it,
        // only the second half is fetched ahead.
        let second = makeFileSystem(store, config: config)
        let data = try await second.lookup(parent: .root, name: "data").attributes.inode
        _ = try await readWholeDirectory(second, data, capacity: 1000)
        for index in 0..<Self.count { #expect(try await readFile(second, data, index) == Self.content(index)) }
        #expect(store.callCount(.get) == Self.count, "each object fetched from S3 once, by one mount or the other")
        #expect(second.cacheTier?.statistics.hits == half)
        let counters = try #require(second.dataset?.counters)
        #expect(counters.prefetchedFiles <= UInt64(half), "files in the tier were fetched ahead: \(counters)")
        #expect(counters.prefetchedFiles == counters.usedFiles, "\(counters)")
    }

    @Test func turnedOffItFetchesNothingAhead() async throws {
        var config = TestConfig.longTTL
        config.reads.datasetReadAhead = false
        let fs = makeFileSystem(store, config: config)
        let data = try await fs.lookup(parent: .root, name: "data").attributes.inode
        for index in 0..<50 { #expect(try await readFile(fs, data, index) == Self.content(index)) }
        #expect(fs.dataset == nil)
        #expect(store.callCount(.get) == 50)
    }
}
