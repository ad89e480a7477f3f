#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

@Suite struct LookupTests {
    let store = MockObjectStore()
    let fs: FileSystem

    init() {
        store.put("file.txt", "hello", lastModified: 1_700_000_123)
        store.put("implied/child", "x")
        store.put("empty/", [])
        store.put("a", "file beside a directory")
        store.put("a/b", "under a/")
        store.put(String(repeating: "n", count: 255), "long name")
        fs = makeFileSystem(store)
    }

    @Test func aFileIsFound() async throws {
        let entry = try await fs.lookup(parent: .root, name: "file.txt")
        #expect(entry.attributes.kind == .file)
        #expect(entry.attributes.size == 5)
        #expect(entry.attributes.mtime == 1_700_000_123)
        #expect(entry.attributes.inode != .root)
        #expect(entry.ttl == TestConfig.longTTL.metadataTTL)
    }

    @Test func aDirectoryImpliedByAKeyIsFound() async throws {
        let entry = try await fs.lookup(parent: .root, name: "implied")
        #expect(entry.attributes.kind == .directory)
        let child = try await fs.lookup(parent: entry.attributes.inode, name: "child")
        #expect(child.attributes.kind == .file)
    }

    @Test func anExplicitEmptyDirectoryMarkerIsADirectory() async throws {
        let entry = try await fs.lookup(parent: .root, name: "empty")
        #expect(entry.attributes.kind == .directory)
        let listed = try await readWholeDirectory(fs, entry.attributes.inode)
        #expect(listed.map(\.name) == [".", ".."])
    }

    @Test func aDirectoryWinsOverAFileOfTheSameName() async throws {
        let entry = try await fs.lookup(parent: .root, name: "a")
        #expect(entry.attributes.kind == .directory)
    }

    @Test func aMissingNameIsENOENT() async {
        #expect(await thrownErrno { try await fs.lookup(parent: .root, name: "missing") } == ENOENT)
        #expect(await thrownErrno { try await fs.lookup(parent: .root, name: "file.tx") } == ENOENT)
    }

    @Test func aNameOver255BytesIsENAMETOOLONGWithoutAnS3Call() async throws {
        store.resetCalls()
        let tooLong = String(repeating: "n", count: 256)
        #expect(await thrownErrno { try await fs.lookup(parent: .root, name: tooLong) } == ENAMETOOLONG)
        #expect(store.totalCallCount == 0)
        let longest = try await fs.lookup(parent: .root, name: String(repeating: "n", count: 255))
        #expect(longest.attributes.size == 9)
    }

    @Test func lookupUnderAFileIsENOTDIR() async throws {
        let file = try await fs.lookup(parent: .root, name: "file.txt")
        #expect(await thrownErrno { try await fs.lookup(parent: file.attributes.inode, name: "x") } == ENOTDIR)
    }

    @Test func lookupUnderAnUnknownInodeIsENOENT() async {
        #expect(await thrownErrno { try await fs.lookup(parent: InodeNumber(999), name: "x") } == ENOENT)
    }

    @Test(arguments: [".", "..", ""])
    func dotNamesAreNotLookedUpInS3(name: String) async {
        store.resetCalls()
        #expect(await thrownErrno { try await fs.lookup(parent: .root, name: name) } == ENOENT)
        #expect(store.totalCallCount == 0)
    }

    @Test func aRepeatedLookupKeepsTheNumberAndCountsEachLookup() async throws {
        let first = try await fs.lookup(parent: .root, name: "file.txt")
        let second = try await fs.lookup(parent: .root, name: "file.txt")
        #expect(first.attributes.inode == second.attributes.inode)
        #expect(fs.inodes.inode(first.attributes.inode)?.lookupCount == 2)
        fs.forget(first.attributes.inode, count: 2)
        #expect(fs.inodes.inode(first.attributes.inode) == nil)
    }

    @Test func aFileThatBecameADirectoryGetsANewNumber() async throws {
        let fs = makeFileSystem(store, config: TestConfig.noTTL)
        let file = try await fs.lookup(parent: .root, name: "file.txt")
        store.put("file.txt/inside", "now a directory too")
        let directory = try await fs.lookup(parent: .root, name: "file.txt")
        #expect(directory.attributes.kind == .directory)
        #expect(directory.attributes.inode != file.attributes.inode)
    }
}
