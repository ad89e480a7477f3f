// The same FileSystem over the real S3HTTPStore against the Ceph RADOS Gateway: what the mock promises, the real
// server must do too (listing order and pages, markers, ranged reads, If-Match on replacement, byte-exact keys).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ObjectStore
import S3FSCore
import S3FSTesting
import Testing

@Suite(.enabled(if: RealServer.isConfigured, "S3_TEST_ENDPOINT is not set"))
struct CoreAgainstRealServerTests {
    /// Deterministic bytes that no range of another offset repeats by accident.
    static func pattern(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed | 1
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
    }

    /// Uploads `objects` (keys relative to a fresh prefix), runs `body` over a FileSystem mounting that prefix,
    /// and deletes the prefix afterwards, also when `body` fails.
    func withMount(
        _ objects: [(key: String, bytes: [UInt8])], ttl: Double = 60,
        _ body: (_ fs: FileSystem, _ prefix: String) async throws -> Void
    ) async throws {
        let prefix = RealServer.randomPrefix()
        let store = try RealServer.store()
        do {
            try await RealServer.upload(objects.map { (prefix + $0.key, $0.bytes) })
            let reads = ReadPipelineConfig(
                blockSize: 1024, maxPrefetch: 0, memoryLimit: 16 << 20, maxConcurrentFetches: 8, kernelReadAhead: 0)
            let fs = makeFileSystem(store, config: FileSystemConfig(prefix: prefix, metadataTTL: ttl, reads: reads))
            try await body(fs, prefix)
        } catch {
            await RealServer.deleteAll(prefix: prefix)
            throw error
        }
        await RealServer.deleteAll(prefix: prefix)
    }

    @Test func lookupFindsFilesDirectoriesAndMarkers() async throws {
        let objects: [(key: String, bytes: [UInt8])] = [
            ("hello.txt", Array("hello world\n".utf8)), ("dir/sub/b", [1]), ("empty/", []), ("a", [2]), ("a/x", [3]),
        ]
        try await withMount(objects) { fs, _ in
            let hello = try await fs.lookup(parent: .root, name: "hello.txt").attributes
            #expect(hello.kind == .file && hello.size == 12)
            #expect(abs(hello.mtime - Double(time(nil))) < 3600)
            #expect(try await fs.lookup(parent: .root, name: "dir").attributes.kind == .directory)
            #expect(try await fs.lookup(parent: .root, name: "empty").attributes.kind == .directory)
            #expect(try await fs.lookup(parent: .root, name: "a").attributes.kind == .directory)
            #expect(await thrownErrno { try await fs.lookup(parent: .root, name: "missing") } == ENOENT)
            #expect(await thrownErrno { try await fs.lookup(parent: hello.inode, name: "x") } == ENOTDIR)
            let empty = try await fs.lookup(parent: .root, name: "empty").attributes.inode
            #expect(try await readWholeDirectory(fs, empty).map(\.name) == [".", ".."])
        }
    }

    @Test func readdirListsEveryEntryOnceInServerOrder() async throws {
        let names = ["b", "B", "a b", "\u{e9}t\u{e9}", "\u{65e5}\u{672c}", "10", "9", "z.txt"]
        let objects = names.map { (key: $0, bytes: Array($0.utf8)) }
            + [("sub/inner", [0]), ("b/", [])]  // a marker beside the file "b": the directory wins
        try await withMount(objects) { fs, _ in
            let entries = try await readWholeDirectory(fs, .root, capacity: 2)
            #expect(
                entries.map(\.name) == [
                    ".", "..", "10", "9", "B", "a b", "b", "sub", "z.txt", "\u{e9}t\u{e9}", "\u{65e5}\u{672c}",
                ])
            #expect(entries.first { $0.name == "b" }?.attributes.kind == .directory)
            #expect(entries.first { $0.name == "z.txt" }?.attributes.size == 5)
        }
    }

    @Test func aDirectoryLongerThanOnePageListsEveryKeyOnce() async throws {
        let names = (0..<1100).map { "k\(10_000 + $0)" }
        try await withMount(names.map { ("many/" + $0, []) }) { fs, _ in
            let many = try await fs.lookup(parent: .root, name: "many").attributes.inode
            let entries = try await readWholeDirectory(fs, many, capacity: 300)
            #expect(entries.dropFirst(2).map(\.name) == names)
        }
    }

    @Test func readsReturnTheServersBytes() async throws {
        let data = Self.pattern(300_001, seed: 42)
        try await withMount([("data.bin", data), ("empty.bin", [])]) { fs, _ in
            #expect(try await readWholeFile(fs, "data.bin", chunk: 128 * 1024) == data)
            #expect(try await readWholeFile(fs, "empty.bin") == [])
            let inode = try await fs.lookup(parent: .root, name: "data.bin").attributes.inode
            let handle = try await fs.open(inode, flags: O_RDONLY).handle
            defer { fs.release(handle: handle) }
            #expect(try await fs.read(handle: handle, offset: 299_990, size: 100).bytes == Array(data[299_990...]))
            #expect(try await fs.read(handle: handle, offset: 1000, size: 7).bytes == Array(data[1000..<1007]))
            #expect(try await fs.read(handle: handle, offset: 300_001, size: 10).bytes == [])
        }
    }

    @Test func anObjectReplacedWhileOpenFailsWithESTALE() async throws {
        let old = Self.pattern(4096, seed: 1)
        let new = Self.pattern(4096, seed: 2)
        try await withMount([("f", old)], ttl: 0) { fs, prefix in
            let inode = try await fs.lookup(parent: .root, name: "f").attributes.inode
            let handle = try await fs.open(inode, flags: O_RDONLY).handle
            #expect(try await fs.read(handle: handle, offset: 0, size: 1024).bytes == Array(old[..<1024]))
            try await RealServer.upload([(prefix + "f", new)])
            #expect(await thrownErrno { try await fs.read(handle: handle, offset: 1024, size: 1024) } == ESTALE)
            // Bytes already read are the page cache's to serve again (the block read through left s3mount's
            // cache): the core answers ESTALE for them too — never the new bytes.
            #expect(await thrownErrno { try await fs.read(handle: handle, offset: 0, size: 1024) } == ESTALE)
            fs.release(handle: handle)
            #expect(try await readWholeFile(fs, "f", chunk: 1000) == new)
        }
    }

    @Test func keysThatCannotBePathsStayHidden() async throws {
        let objects: [(key: String, bytes: [UInt8])] = [("x//y", [1]), ("x/./z", [2]), ("x/../w", [3]), ("x/ok", [4])]
        try await withMount(objects) { fs, _ in
            #expect(try await readWholeDirectory(fs, .root).map(\.name) == [".", "..", "x"])
            let x = try await fs.lookup(parent: .root, name: "x").attributes.inode
            #expect(try await readWholeDirectory(fs, x).map(\.name) == [".", "..", "ok"])
            #expect(try await readWholeFile(fs, parent: x, "ok") == [4])
            for name in [".", "..", ""] {
                #expect(await thrownErrno { try await fs.lookup(parent: x, name: name) } == ENOENT)
            }
        }
    }

    @Test func canonicallyEquivalentKeysAreTwoFiles() async throws {
        let objects: [(key: String, bytes: [UInt8])] = [
            ("caf\u{e9}", Array("nfc".utf8)), ("cafe\u{301}", Array("nfd".utf8)),
        ]
        try await withMount(objects) { fs, _ in
            let names = try await readWholeDirectory(fs, .root).dropFirst(2).map { Array($0.name.utf8) }
            #expect(names == [Array("cafe\u{301}".utf8), Array("caf\u{e9}".utf8)])
            #expect(try await readWholeFile(fs, "caf\u{e9}") == Array("nfc".utf8))
            #expect(try await readWholeFile(fs, "cafe\u{301}") == Array("nfd".utf8))
        }
    }

    @Test func aMissingBucketIsENOENT() async throws {
        let store = try RealServer.store(bucket: "no-such-bucket-\(UInt32.random(in: 0..<UInt32.max))")
        let fs = makeFileSystem(store)
        #expect(await thrownErrno { try await readWholeDirectory(fs, .root) } == ENOENT)
        #expect(await thrownErrno { try await fs.lookup(parent: .root, name: "x") } == ENOENT)
    }
}
