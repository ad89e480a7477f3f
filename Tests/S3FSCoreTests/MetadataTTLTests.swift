#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

@Suite struct MetadataTTLTests {
    let store = MockObjectStore()

    init() {
        store.put("f", "one")
        store.put("d/x", "x")
    }

    @Test(arguments: ["f", "d"])
    func aLookupWithinTheTTLMakesNoS3Call(name: String) async throws {
        let fs = makeFileSystem(store, config: TestConfig.longTTL)
        let first = try await fs.lookup(parent: .root, name: name)
        #expect(store.totalCallCount > 0)
        store.resetCalls()
        let second = try await fs.lookup(parent: .root, name: name)
        _ = try await fs.getattr(second.attributes.inode)
        #expect(store.totalCallCount == 0)
        #expect(second.attributes.inode == first.attributes.inode)
        #expect(fs.inodes.inode(first.attributes.inode)?.lookupCount == 2)
    }

    @Test func openWithinTheTTLMakesNoHead() async throws {
        let fs = makeFileSystem(store, config: TestConfig.longTTL)
        let inode = try await fs.lookup(parent: .root, name: "f").attributes.inode
        store.resetCalls()
        _ = try await fs.open(inode, flags: O_RDONLY)
        #expect(store.totalCallCount == 0)
    }

    @Test func aLookupAfterTheTTLAsksAgainAndSeesChanges() async throws {
        let fs = makeFileSystem(store, config: TestConfig.noTTL)
        let first = try await fs.lookup(parent: .root, name: "f")
        store.replace("f", with: Array("longer".utf8))
        store.resetCalls()
        let second = try await fs.lookup(parent: .root, name: "f")
        // One LIST of the name's prefix settles it (see NameResolver).
        #expect(store.callCount(.list) == 1)
        #expect(store.callCount(.head) == 0)
        #expect(second.attributes.size == 6)
        #expect(second.attributes.inode == first.attributes.inode)
    }

    @Test func aDeletionIsSeenAfterTheTTL() async throws {
        let fs = makeFileSystem(store, config: TestConfig.noTTL)
        _ = try await fs.lookup(parent: .root, name: "f")
        store.delete("f")
        #expect(await thrownErrno { try await fs.lookup(parent: .root, name: "f") } == ENOENT)
    }

    @Test func aDeletionWithinTheTTLIsNotYetSeen() async throws {
        let fs = makeFileSystem(store, config: TestConfig.longTTL)
        let first = try await fs.lookup(parent: .root, name: "f")
        store.delete("f")
        let second = try await fs.lookup(parent: .root, name: "f")
        #expect(second.attributes.inode == first.attributes.inode)
    }
}
