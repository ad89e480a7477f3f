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

/// Reads on a mount the kernel sends no opens (read-only: FUSE's no_open): each inode's reads go through one
/// implicit handle made at its first read and released when the kernel forgets the inode.
@Suite struct OpenlessReadTests {
    let store = MockObjectStore()
    static let content: [UInt8] = Array(0..<10)

    init() {
        store.put("f", Self.content)
    }

    func readOnly(_ base: FileSystemConfig) -> FileSystemConfig {
        var config = base
        config.readOnly = true
        return config
    }

    @Test func onlyAReadOnlyMountAsksForNoOpens() {
        #expect(makeFileSystem(store, config: readOnly(TestConfig.longTTL)).readsNeedNoOpen)
        #expect(!makeFileSystem(store).readsNeedNoOpen)
    }

    @Test func readsOfAnInodeShareOneHandleThatItsForgetReleases() async throws {
        let fs = makeFileSystem(store, config: readOnly(TestConfig.longTTL))
        let inode = try await fs.lookup(parent: .root, name: "f").attributes.inode
        #expect(try await fs.read(inode: inode, offset: 0, size: 4) == [0, 1, 2, 3])
        #expect(try await fs.read(inode: inode, offset: 4, size: 100) == [4, 5, 6, 7, 8, 9])
        #expect(fs.files.count == 1)
        #expect(fs.inodes.openCount(inode) == 1)
        // An O_DIRECT reader's blocks are not in the page cache: it gets a handle of its own.
        #expect(try await fs.read(inode: inode, offset: 2, size: 3, flags: O_RDONLY | s3m_o_direct()) == [2, 3, 4])
        #expect(fs.files.count == 2)
        fs.forget(inode, count: 1)
        #expect(fs.files.count == 0)
        #expect(fs.openless.count == 0)
        #expect(await thrownErrno { try await fs.read(inode: inode, offset: 0, size: 1) } == ENOENT)
    }

    @Test func aNewVersionFoundByALookupGetsANewInodeAndTheOldOneNeverReadsItsBytes() async throws {
        var config = readOnly(TestConfig.noTTL)
        config.reads = TestConfig.tinyBlocks
        let fs = makeFileSystem(store, config: config)
        let first = try await fs.lookup(parent: .root, name: "f").attributes.inode
        #expect(try await fs.read(inode: first, offset: 0, size: 100) == Self.content)
        store.replace("f", with: Array(100..<110))
        // The kernel holds the old version's pages under `first`: the new version must get another inode.
        let second = try await fs.lookup(parent: .root, name: "f").attributes.inode
        #expect(second != first)
        #expect(try await fs.read(inode: second, offset: 0, size: 100) == Array(100..<110))
        #expect(await thrownErrno { try await fs.read(inode: first, offset: 0, size: 100) } == ESTALE)
    }

    @Test func aFirstReadAfterTheTTLReadsTheVersionS3HasNow() async throws {
        let fs = makeFileSystem(store, config: readOnly(TestConfig.noTTL))
        let inode = try await fs.lookup(parent: .root, name: "f").attributes.inode
        store.replace("f", with: Array("new".utf8))
        #expect(try await fs.read(inode: inode, offset: 0, size: 100) == Array("new".utf8))
    }
}

extension FileSystem {
    /// One read without a handle, as the FUSE bridge makes it on a mount that answers no open.
    func read(inode: InodeNumber, offset: UInt64, size: Int, flags: Int32 = O_RDONLY) async throws(FSError) -> [UInt8] {
        switch try startRead(inode: inode, offset: offset, size: size, flags: flags) {
        case .ready(let data): data.bytes
        case .waiting(let pending): try await pending.finish().bytes
        }
    }
}
