#if canImport(Glibc)
import Glibc
#endif
import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

/// readdir over a directory of several LIST pages: names reach the kernel page by page, every name exactly once,
/// and a listing larger than the inode table's budget leaves at most the budget behind.
@Suite struct StreamingReaddirTests {
    static let names = (0..<2_500).map { String(format: "n%05d", $0) }
    let store = MockObjectStore(pageLimit: 1000)

    init() {
        for name in Self.names { store.put("big/" + name, name) }
        store.put("big/sub/x", "x")
    }

    func big(_ fs: FileSystem) async throws -> InodeNumber {
        try await fs.lookup(parent: .root, name: "big").attributes.inode
    }

    @Test func theFirstReplyNeedsOnlyTheFirstPage() async throws {
        let fs = makeFileSystem(store)
        let big = try await big(fs)
        store.resetCalls()
        let handle = try await fs.opendir(big)
        var replier = ArrayDirectoryReplier(capacity: 50)
        try await fs.readdir(handle: handle, offset: 0, plus: false, into: &replier)
        #expect(replier.names == [".", ".."] + Self.names.prefix(48))
        #expect(store.callCount(.list) == 1)
        fs.releasedir(handle: handle)
    }

    @Test(arguments: [7, 999, 1000, 4096])
    func everyNameComesOnceInOrderWhateverTheReplySize(capacity: Int) async throws {
        let fs = makeFileSystem(store)
        let entries = try await readWholeDirectory(fs, try await big(fs), capacity: capacity)
        #expect(entries.map(\.name) == [".", ".."] + Self.names + ["sub"])
        #expect(entries.map(\.nextOffset) == Array(1...UInt64(entries.count)))
        #expect(store.callCount(.list) <= 4, "one LIST per page (plus the lookup of big)")
    }

    @Test func anOffsetBeforeTheWindowStartsThePassAgain() async throws {
        let fs = makeFileSystem(store)
        let handle = try await fs.opendir(try await big(fs))
        var replier = ArrayDirectoryReplier(capacity: 1500)
        try await fs.readdir(handle: handle, offset: 0, plus: false, into: &replier)
        let resume = try #require(replier.entries.last?.nextOffset)
        replier = ArrayDirectoryReplier(capacity: 10)
        try await fs.readdir(handle: handle, offset: resume, plus: false, into: &replier)
        #expect(replier.names.first == Self.names[Int(resume) - 2])
        replier = ArrayDirectoryReplier(capacity: 3)
        try await fs.readdir(handle: handle, offset: 5, plus: false, into: &replier)  // seekdir backwards
        #expect(replier.names == Array(Self.names[3..<6]))
        fs.releasedir(handle: handle)
    }

    @Test func aListingBeyondTheBudgetLeavesTheBudgetAndDoesNotAnswerLookups() async throws {
        let fs = makeFileSystem(store, config: FileSystemConfig(metadataTTL: 3600, maxCachedNames: 1000))
        let big = try await big(fs)
        let entries = try await readWholeDirectory(fs, big, capacity: 300)
        #expect(entries.count == Self.names.count + 3)
        #expect(fs.inodes.count <= 1000)
        #expect(!fs.inodes.isFreshlyListed(big), "names were evicted: the table no longer holds the whole directory")
        store.resetCalls()
        let early = try await fs.lookup(parent: big, name: Self.names[0])
        #expect(early.attributes.size == UInt64(Self.names[0].utf8.count))
        #expect(store.totalCallCount > 0, "an evicted name is asked for again")
    }

    @Test func aListingWithinTheBudgetAnswersLookupsWithoutRequests() async throws {
        let fs = makeFileSystem(store, config: FileSystemConfig(metadataTTL: 3600))
        let big = try await big(fs)
        _ = try await readWholeDirectory(fs, big, capacity: 4096)
        #expect(fs.inodes.isFreshlyListed(big))
        store.resetCalls()
        _ = try await fs.lookup(parent: big, name: Self.names[1234])
        #expect(await thrownErrno { try await fs.lookup(parent: big, name: "absent") } == ENOENT)
        #expect(store.totalCallCount == 0)
    }
}
