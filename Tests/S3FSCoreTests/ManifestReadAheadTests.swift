#if canImport(Glibc)
import Glibc
#endif
import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

/// --prefetch-manifest inside the file system, over the mock store: the listed files are fetched from the moment
/// the mount starts, resolved with one LIST per directory, and the job then reads them without a GET.
@Suite struct ManifestReadAheadTests {
    let store = MockObjectStore()
    static let names = (0..<40).map { String(format: "c%d/f%03d", $0 % 2, $0) }

    init() {
        for (index, name) in Self.names.enumerated() { store.put("data/" + name, Self.content(index)) }
    }

    static func content(_ index: Int) -> [UInt8] {
        (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ index) }
    }

    func fileSystem(manifest: [String], memoryLimit: Int = 8 << 20) -> FileSystem {
        var config = TestConfig.longTTL
        config.prefix = "data/"
        config.reads = Pipeline.reads(memoryLimit: memoryLimit)
        config.reads.datasetReadAhead = false
        config.reads.prefetchManifest = manifest
        return makeFileSystem(store, config: config)
    }

    func read(_ fs: FileSystem, _ path: String) async throws -> [UInt8] {
        var parent = InodeNumber.root
        let components = path.split(separator: "/").map(String.init)
        for directory in components.dropLast() { parent = try await fs.lookup(parent: parent, name: directory).attributes.inode }
        let inode = try await fs.lookup(parent: parent, name: components.last!).attributes.inode
        let handle = try await fs.open(inode, flags: O_RDONLY).handle
        defer { fs.release(handle: handle) }
        return try await fs.read(handle: handle, offset: 0, size: 1 << 20).bytes
    }

    @Test func listedFilesAreFetchedBeforeTheJobAsksAndReadWithoutAGET() async throws {
        var generator = SplitMix(seed: 9)
        let order = Self.names.indices.shuffled(using: &generator)
        let fs = fileSystem(manifest: order.map { Self.names[$0] } + ["c0/missing"])
        let manifest = try #require(fs.manifest)
        #expect(await eventually(timeout: .seconds(90)) { manifest.counters.prefetchedFiles == 40 && manifest.counters.missing == 1 })
        // One LIST per directory (two class folders), no HEAD per entry.
        #expect(store.callCount(.list) == 2)
        #expect(store.callCount(.head) == 0)
        #expect(await eventually(timeout: .seconds(90)) { store.callCount(.get) == 40 })
        for index in order { #expect(try await read(fs, Self.names[index]) == Self.content(index)) }
        #expect(store.callCount(.get) == 40, "every file was read from its prefetched block")
        #expect(manifest.counters.usedFiles == 40)
        #expect(manifest.counters.usedBytes == 40 * 3000)
    }

    @Test func prefetchStopsAtTheMemoryShareAndFollowsTheJob() async throws {
        // Half of a 60,000-byte budget holds ten of the 3,000-byte files; the rest are fetched as the job reads.
        let fs = fileSystem(manifest: Self.names, memoryLimit: 60_000)
        let manifest = try #require(fs.manifest)
        #expect(await eventually(timeout: .seconds(90)) { manifest.isIdle && manifest.counters.prefetchedFiles > 0 })
        #expect(manifest.counters.prefetchedFiles == 10)
        #expect(store.callCount(.get) == 10)
        for (index, name) in Self.names.enumerated() { #expect(try await read(fs, name) == Self.content(index)) }
        #expect(await eventually(timeout: .seconds(90)) { manifest.isIdle })
        #expect(manifest.counters.usedFiles >= 30, "\(manifest.counters)")
        #expect(store.callCount(.get) == 40)
    }
}
