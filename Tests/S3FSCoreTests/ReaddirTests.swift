#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

@Suite struct ReaddirTests {
    let store = MockObjectStore()
    let fs: FileSystem
    static let expectedNames = [".", "..", "a", "b", "c", "d", "dir", "e", "f"]

    init() {
        for name in ["f", "b", "e", "a", "c", "d"] { store.put("top/" + name, name) }
        store.put("top/", [])  // the directory's own marker
        store.put("top/dir/x", "x")
        fs = makeFileSystem(store)
    }

    func top() async throws -> InodeNumber { try await fs.lookup(parent: .root, name: "top").attributes.inode }

    @Test(arguments: [1, 2, 3, 4, 100])
    func everyEntryIsListedOnceWhateverTheReplySize(capacity: Int) async throws {
        let entries = try await readWholeDirectory(fs, try await top(), capacity: capacity)
        #expect(entries.map(\.name) == Self.expectedNames)
        #expect(entries.map(\.nextOffset) == Array(1...UInt64(Self.expectedNames.count)))
    }

    @Test func dotEntriesNameTheDirectoryAndItsParent() async throws {
        let top = try await top()
        let entries = try await readWholeDirectory(fs, top)
        #expect(entries[0].attributes.inode == top && entries[0].isDotEntry)
        #expect(entries[1].attributes.inode == .root && entries[1].isDotEntry)
        #expect(entries.dropFirst(2).allSatisfy { !$0.isDotEntry })
        let kinds = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.attributes.kind) })
        #expect(kinds["dir"] == .directory && kinds["a"] == .file)
    }

    @Test func readingResumesAtTheGivenOffsetFromTheSnapshot() async throws {
        let handle = try await fs.opendir(try await top())
        var first = ArrayDirectoryReplier(capacity: 4)
        try await fs.readdir(handle: handle, offset: 0, plus: false, into: &first)
        #expect(first.names == [".", "..", "a", "b"])
        #expect(first.refused == 1)
        // A key added between replies does not shift the offsets of a listing in progress.
        store.put("top/0-added-first", "x")
        store.resetCalls()
        var rest = ArrayDirectoryReplier()
        try await fs.readdir(handle: handle, offset: first.nextOffset(after: 0), plus: false, into: &rest)
        #expect(rest.names == ["c", "d", "dir", "e", "f"])
        #expect(store.totalCallCount == 0)
        // Offset 0 again (rewinddir) lists from S3 anew.
        var rewound = ArrayDirectoryReplier()
        try await fs.readdir(handle: handle, offset: 0, plus: false, into: &rewound)
        #expect(rewound.names.contains("0-added-first"))
        #expect(store.callCount(.list) == 1)
        fs.releasedir(handle: handle)
    }

    @Test func inodeNumbersInTheListingMatchLookups() async throws {
        let top = try await top()
        let entries = try await readWholeDirectory(fs, top)
        for entry in entries.dropFirst(2) {
            let looked = try await fs.lookup(parent: top, name: entry.name)
            #expect(looked.attributes.inode == entry.attributes.inode, "\(entry.name)")
        }
    }

    @Test func anUnknownOrReleasedHandleIsEBADF() async throws {
        var replier = ArrayDirectoryReplier()
        #expect(
            await thrownErrno { try await fs.readdir(handle: 4242, offset: 0, plus: false, into: &replier) } == EBADF)
        let handle = try await fs.opendir(.root)
        fs.releasedir(handle: handle)
        #expect(
            await thrownErrno { try await fs.readdir(handle: handle, offset: 0, plus: false, into: &replier) } == EBADF)
    }

    @Test func opendirOfAFileIsENOTDIR() async throws {
        let top = try await top()
        let file = try await fs.lookup(parent: top, name: "a").attributes.inode
        #expect(await thrownErrno { try await fs.opendir(file) } == ENOTDIR)
    }
}
