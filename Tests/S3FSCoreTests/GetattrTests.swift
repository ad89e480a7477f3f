#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

@Suite struct GetattrTests {
    let store = MockObjectStore()

    init() {
        store.put("f", [UInt8](repeating: 7, count: 1025), lastModified: 1_700_000_500)
        store.put("d/x", "x")
    }

    @Test func fileAttributesComeFromS3AndTheConfig() async throws {
        let fs = makeFileSystem(store)
        let inode = try await fs.lookup(parent: .root, name: "f").attributes.inode
        let attributes = try await fs.getattr(inode)
        #expect(attributes.kind == .file)
        #expect(attributes.size == 1025)
        #expect(attributes.blocks == 3)
        #expect(attributes.mtime == 1_700_000_500)
        #expect(attributes.permissions == 0o640)
        #expect(attributes.uid == 1234)
        #expect(attributes.gid == 5678)
        #expect(attributes.linkCount == 1)
    }

    @Test func directoryAttributesUseTheDirModeAndMountTime() async throws {
        let fs = makeFileSystem(store)
        let inode = try await fs.lookup(parent: .root, name: "d").attributes.inode
        let attributes = try await fs.getattr(inode)
        #expect(attributes.kind == .directory)
        #expect(attributes.permissions == 0o750)
        #expect(attributes.uid == 1234 && attributes.gid == 5678)
        #expect(attributes.mtime == TestConfig.mountTime)
        #expect(attributes.linkCount == 2)
    }

    @Test func theRootIsADirectoryWithoutAnS3Call() async throws {
        let fs = makeFileSystem(store)
        let attributes = try await fs.getattr(.root)
        #expect(attributes.kind == .directory && attributes.inode == .root && attributes.permissions == 0o750)
        #expect(store.totalCallCount == 0)
    }

    @Test func anUnknownInodeIsENOENT() async {
        let fs = makeFileSystem(store)
        #expect(await thrownErrno { try await fs.getattr(InodeNumber(77)) } == ENOENT)
    }

    @Test func staleFileAttributesAreRefreshedFromS3() async throws {
        let fs = makeFileSystem(store, config: TestConfig.noTTL)
        let inode = try await fs.lookup(parent: .root, name: "f").attributes.inode
        store.replace("f", with: [1, 2, 3])
        store.resetCalls()
        let attributes = try await fs.getattr(inode)
        #expect(attributes.size == 3)
        #expect(attributes.inode == inode)
        #expect(store.calls == [.head(key: "f")])
    }

    @Test func aDeletedFileIsENOENTOnceStale() async throws {
        let fs = makeFileSystem(store, config: TestConfig.noTTL)
        let inode = try await fs.lookup(parent: .root, name: "f").attributes.inode
        store.delete("f")
        #expect(await thrownErrno { try await fs.getattr(inode) } == ENOENT)
    }

    @Test func statfsReportsTheNameLimit() {
        #expect(makeFileSystem(store).statfs().maxNameLength == 255)
    }
}

/// LIST reports Last-Modified in milliseconds, HEAD in whole seconds: one object must keep one mtime whichever
/// answered, or the kernel drops the file's cached pages each time the attributes are refreshed.
@Suite struct MtimeStabilityTests {
    @Test func listAndHeadGiveTheSameMtime() async throws {
        let store = MockObjectStore()
        store.put("f", Array("abc".utf8), lastModified: 1_700_000_500.734)
        let fs = makeFileSystem(store, config: TestConfig.noTTL)
        let fromList = try await fs.lookup(parent: .root, name: "f").attributes
        let fromHead = try await fs.getattr(fromList.inode)  // stale at once: refreshed with HEAD
        #expect(fromList.mtime == 1_700_000_500)
        #expect(fromHead.mtime == fromList.mtime)
    }
}
