#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSystem
import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

@Suite struct OpenReadTests {
    let store = MockObjectStore()
    let fs: FileSystem
    static let content: [UInt8] = Array(0..<10)

    init() {
        store.put("f", Self.content)
        store.put("d/x", "x")
        store.put("empty", [])
        fs = makeFileSystem(store)
    }

    func openFile(_ name: String = "f") async throws -> UInt64 {
        let inode = try await fs.lookup(parent: .root, name: name).attributes.inode
        return try await fs.open(inode, flags: O_RDONLY).handle
    }

    @Test(arguments: [O_WRONLY, O_RDWR, O_RDONLY | O_TRUNC, O_WRONLY | O_APPEND])
    func openForWritingIsEROFS(flags: Int32) async throws {
        let inode = try await fs.lookup(parent: .root, name: "f").attributes.inode
        #expect(await thrownErrno { try await fs.open(inode, flags: flags) } == EROFS)
    }

    @Test func openOfADirectoryIsEISDIR() async throws {
        let inode = try await fs.lookup(parent: .root, name: "d").attributes.inode
        #expect(await thrownErrno { try await fs.open(inode, flags: O_RDONLY) } == EISDIR)
        #expect(await thrownErrno { try await fs.open(.root, flags: O_RDONLY) } == EISDIR)
    }

    @Test func openOfAnUnknownInodeIsENOENT() async {
        #expect(await thrownErrno { try await fs.open(InodeNumber(31337), flags: O_RDONLY) } == ENOENT)
    }

    @Test func readsAtOffsetsReturnExactlyTheRequestedBytes() async throws {
        let handle = try await openFile()
        #expect(try await fs.read(handle: handle, offset: 0, size: 4).bytes == [0, 1, 2, 3])
        #expect(try await fs.read(handle: handle, offset: 3, size: 5).bytes == [3, 4, 5, 6, 7])
        #expect(try await fs.read(handle: handle, offset: 0, size: 10).bytes == Self.content)
        // The last read is short; at and past the end a read is empty and asks S3 nothing.
        #expect(try await fs.read(handle: handle, offset: 8, size: 4096).bytes == [8, 9])
        store.resetCalls()
        #expect(try await fs.read(handle: handle, offset: 10, size: 4).bytes == [])
        #expect(try await fs.read(handle: handle, offset: 1 << 40, size: 4).bytes == [])
        #expect(try await fs.read(handle: handle, offset: 2, size: 0).bytes == [])
        #expect(store.totalCallCount == 0)
    }

    @Test func readsAskForTheRangeOfTheVersionOpened() async throws {
        let handle = try await openFile()
        store.resetCalls()
        // A first read this near the start is read as the start of a sequential one: the block, here the whole object,
        // which is asked for without a range (a plain GET costs the server less), pinned to the version opened.
        _ = try await fs.read(handle: handle, offset: 8, size: 100).bytes
        #expect(store.calls == [.get(key: "f", range: nil, ifMatch: store.object("f")?.etag)])
    }

    @Test func anEmptyFileReadsAsEmpty() async throws {
        #expect(try await readWholeFile(fs, "empty") == [])
    }

    @Test func aWholeFileReadsBackInSmallChunks() async throws {
        #expect(try await readWholeFile(fs, "f", chunk: 3) == Self.content)
    }

    @Test func anObjectReplacedWhileOpenFailsWithESTALENeverMixedBytes() async throws {
        var config = TestConfig.longTTL
        config.reads = TestConfig.tinyBlocks
        let fs = makeFileSystem(store, config: config)
        let inode = try await fs.lookup(parent: .root, name: "f").attributes.inode
        let handle = try await fs.open(inode, flags: O_RDONLY).handle
        #expect(try await fs.read(handle: handle, offset: 0, size: 5).bytes == [0, 1, 2, 3, 4])
        store.replace("f", with: Array(100..<110))
        // Bytes 8..<10 must come from the store, which no longer has the pinned version.
        #expect(await thrownErrno { try await fs.read(handle: handle, offset: 5, size: 5) } == ESTALE)
        // What was already read is the kernel's page cache's to serve again: the blocks read through left the
        // block cache, so the core answers ESTALE too — never the new version's bytes.
        #expect(await thrownErrno { try await fs.read(handle: handle, offset: 0, size: 5) } == ESTALE)
    }

    @Test func anODirectHandleKeepsTheBlocksItReadForItsRereads() async throws {
        var config = TestConfig.longTTL
        config.reads = TestConfig.tinyBlocks
        let fs = makeFileSystem(store, config: config)
        let inode = try await fs.lookup(parent: .root, name: "f").attributes.inode
        let handle = try await fs.open(inode, flags: O_RDONLY | s3m_o_direct()).handle
        #expect(try await fs.read(handle: handle, offset: 0, size: 5).bytes == [0, 1, 2, 3, 4])
        store.replace("f", with: Array(100..<110))
        // No page cache holds what an O_DIRECT reader read: the pinned version's blocks serve it again.
        #expect(try await fs.read(handle: handle, offset: 0, size: 5).bytes == [0, 1, 2, 3, 4])
    }

    @Test func reopeningAfterTheTTLReadsTheNewVersion() async throws {
        let fs = makeFileSystem(store, config: TestConfig.noTTL)
        #expect(try await readWholeFile(fs, "f") == Self.content)
        store.replace("f", with: Array("new".utf8))
        #expect(try await readWholeFile(fs, "f") == Array("new".utf8))
    }

    @Test func aReleasedOrUnknownHandleIsEBADF() async throws {
        let handle = try await openFile()
        fs.release(handle: handle)
        #expect(await thrownErrno { try await fs.read(handle: handle, offset: 0, size: 1) } == EBADF)
        #expect(await thrownErrno { try await fs.read(handle: 999_999, offset: 0, size: 1) } == EBADF)
    }

    @Test func handlesAreNotReused() async throws {
        let first = try await openFile()
        fs.release(handle: first)
        let second = try await openFile()
        #expect(first != second)
    }
}
