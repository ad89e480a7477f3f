#if canImport(Glibc)
import Glibc
#endif
import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

/// The inode table's budget: names nobody holds leave, oldest first; what the kernel holds, open files and
/// directories with children stay.
@Suite struct InodeBudgetTests {
    let table = InodeTable(rootKey: "", rootMtime: 0, limit: 10)

    static func file(_ name: String) -> ResolvedEntry {
        .file(name: name, object: ObjectInfo(key: name, size: 1, lastModified: 1, etag: ETag("\"e\"")))
    }

    @Test func unheldNamesLeaveOldestFirstPastTheBudget() {
        let numbers = (0..<25).map { table.upsert(parent: .root, entry: Self.file("f\($0)"), ttl: 60, countLookup: false).number }
        #expect(table.count == 10)
        #expect(table.evictions == 16)
        #expect(numbers.prefix(16).allSatisfy { table.inode($0) == nil })
        #expect(numbers.suffix(9).allSatisfy { table.inode($0) != nil })
        #expect(table.child(of: .root, named: "f0", countLookup: false) == nil)
    }

    @Test func heldOpenAndParentInodesStayWhateverTheBudget() {
        let held = table.upsert(parent: .root, entry: Self.file("held"), ttl: 60, countLookup: true)
        let open = table.upsert(parent: .root, entry: Self.file("open"), ttl: 60, countLookup: false)
        table.countOpen(open.number, 1)
        let directory = table.upsert(
            parent: .root, entry: .directory(name: "d", prefix: "d/", mtime: 1), ttl: 60, countLookup: false)
        let child = table.upsert(parent: directory.number, entry: Self.file("d/c"), ttl: 60, countLookup: true)
        for i in 0..<50 { table.upsert(parent: .root, entry: Self.file("x\(i)"), ttl: 60, countLookup: false) }
        for kept in [held, open, directory, child] { #expect(table.inode(kept.number) != nil, "\(kept.name)") }
        #expect(table.count == 10)
    }

    @Test func aLookupTakenBackMakesTheNameEvictable() {
        let refused = table.upsert(parent: .root, entry: Self.file("refused"), ttl: 60, countLookup: true)
        table.uncountLookup(refused.number)
        for i in 0..<20 { table.upsert(parent: .root, entry: Self.file("x\(i)"), ttl: 60, countLookup: false) }
        #expect(table.inode(refused.number) == nil)
    }

    @Test func evictionUnmarksTheParentsListing() {
        table.markListed(.root, at: .now, ttl: 60)
        #expect(table.isFreshlyListed(.root))
        for i in 0..<11 { table.upsert(parent: .root, entry: Self.file("x\(i)"), ttl: 60, countLookup: false) }
        #expect(!table.isFreshlyListed(.root), "a name of the listing left the table")
    }

    @Test func refreshingTheSameNamesForeverKeepsTheTableWithinItsBudget() {
        let big = InodeTable(rootKey: "", rootMtime: 0, limit: 100)
        for _ in 0..<200 {
            for i in 0..<50 { big.upsert(parent: .root, entry: Self.file("x\(i)"), ttl: 60, countLookup: false) }
        }
        #expect(big.count == 51)
        #expect(big.evictions == 0)
    }
}

/// The negative cache: a name S3 said is missing stays missing for the TTL without a request, until it is created
/// through the mount.
@Suite struct NegativeCacheTests {
    let store = MockObjectStore()

    @Test func aMissingNameIsAnsweredWithoutARequestUntilItIsCreatedHere() async throws {
        store.put("dir/a", "a")
        let fs = makeFileSystem(store, config: FileSystemConfig(metadataTTL: 3600))
        let dir = try await fs.lookup(parent: .root, name: "dir").attributes.inode
        #expect(await thrownErrno { try await fs.lookup(parent: dir, name: "late") } == ENOENT)
        store.put("dir/late", "created by another client")
        store.resetCalls()
        #expect(await thrownErrno { try await fs.lookup(parent: dir, name: "late") } == ENOENT)
        #expect(store.totalCallCount == 0, "the second lookup asked S3")
        fs.inodes.upsert(
            parent: dir, entry: .file(name: "late", object: try #require(store.object("dir/late"))), ttl: 3600,
            countLookup: false)
        #expect(try await fs.lookup(parent: dir, name: "late").attributes.size == 25)
    }

    @Test func withoutATTLNothingIsRemembered() async throws {
        let fs = makeFileSystem(store, config: FileSystemConfig(metadataTTL: 0))
        #expect(await thrownErrno { try await fs.lookup(parent: .root, name: "late") } == ENOENT)
        store.put("late", "x")
        #expect(try await fs.lookup(parent: .root, name: "late").attributes.size == 1)
    }
}
