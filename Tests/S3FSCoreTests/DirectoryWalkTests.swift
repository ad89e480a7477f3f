#if canImport(Glibc)
import Glibc
#endif
import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Synchronization
import Testing

/// Lookups of name after name in one directory are answered from one listing once the walk is recognised.
@Suite struct DirectoryWalkTests {
    let store = MockObjectStore(pageLimit: 1000)

    init() {
        for index in 0..<500 { store.put("data/file-\(index)", "x") }
    }

    @Test func aWalkIsAnsweredFromOneListing() async throws {
        let fs = makeFileSystem(store)
        let data = try await fs.lookup(parent: .root, name: "data").attributes.inode
        store.resetCalls()
        for index in 0..<200 {
            let entry = try await fs.lookup(parent: data, name: "file-\(index)")
            #expect(entry.attributes.size == 1)
        }
        // The first lookups ask S3 one by one (a name such as "file-1" has over 100 siblings sorting before
        // "file-1/", so it takes two LISTs); then one listing (one page) answers the other 190-odd.
        let threshold = fs.walks.threshold
        let requests = store.totalCallCount
        #expect(requests <= 2 * (threshold - 1) + 1)
        #expect(store.callCount(.head) == 0)
        // Names missing from the fresh listing are missing without a request, and known ones need none either.
        await #expect(thrownErrno { try await fs.lookup(parent: data, name: "file-9999") } == ENOENT)
        #expect(try await fs.lookup(parent: data, name: "file-499").attributes.size == 1)
        #expect(store.totalCallCount == requests)
    }

    @Test func aDirectoryTooBigToListKeepsPerNameLookups() async throws {
        let walks = DirectoryWalks(threshold: 2, window: .seconds(60), maxPages: 1)
        let directory = InodeNumber(42)
        #expect(walks.noteMiss(in: directory) { true } == nil)
        let listing = try #require(walks.noteMiss(in: directory) { false })
        #expect(await listing.value == false)
        walks.finished(directory, complete: false)
        for _ in 0..<10 { #expect(walks.noteMiss(in: directory) { true } == nil) }
    }

    @Test func aListingNearItsExpiryIsListedAgainAheadOnceItsPagesAreEarned() async throws {
        let walks = DirectoryWalks(threshold: 2, busyHits: 2, window: .seconds(60), maxPages: 20)
        let directory = InodeNumber(9)
        walks.noteListed(directory, entries: 2500)  // three pages: a refresh is worth 2 x 3 lookups near expiry
        for _ in 0..<5 { walks.noteHitNearExpiry(in: directory) { Issue.record("listed before six hits"); return true } }
        let started = Mutex(0)
        walks.noteHitNearExpiry(in: directory) {
            started.withLock { $0 += 1 }
            return true
        }
        // Lookups that miss meanwhile join the refresh instead of starting another listing.
        let joined = try #require(walks.noteMiss(in: directory) { Issue.record("a second listing started"); return true })
        #expect(await joined.value)
        #expect(started.withLock { $0 } == 1)
    }

    @Test func aWalkedDirectoryIsListedAgainBeforeItsListingRunsOut() async throws {
        let ttl = 60.0
        var config = TestConfig.longTTL
        config.metadataTTL = ttl
        let fs = makeFileSystem(store, config: config)
        let data = try await fs.lookup(parent: .root, name: "data").attributes.inode
        _ = try await fs.listDirectory(data, maxPages: 20)
        store.resetCalls()
        for index in 0..<20 { #expect(try await fs.lookup(parent: data, name: "file-\(index)").attributes.size == 1) }
        #expect(store.totalCallCount == 0, "a young listing was refreshed")
        // The listing is made 50 s old (10 s left: in the last fifth of its TTL) instead of waiting for it to age.
        fs.inodes.markListed(data, at: .now - .seconds(50), ttl: ttl)
        let margin = Duration.seconds(ttl / 5)
        let listingRunsOut = { fs.inodes.freshLookup(parent: data, name: Array("no such name".utf8), margin: margin).listingRunsOut }
        #expect(listingRunsOut())
        // Lookups are answered at once from the old listing, which is still fresh; once `busyHits` of them came,
        // the next listing is started behind them.
        for index in 0..<fs.walks.busyHits - 1 {
            #expect(try fs.lookupWithoutWaiting(parent: data, name: "file-\(index)")?.attributes.size == 1)
        }
        #expect(store.totalCallCount == 0, "a listing near its expiry was refreshed for fewer lookups than a walk")
        #expect(try fs.lookupWithoutWaiting(parent: data, name: "file-99")?.attributes.size == 1)
        #expect(await eventually(timeout: .seconds(5)) { store.callCount(.list) == 1 })
        #expect(await eventually(timeout: .seconds(5)) { !listingRunsOut() })
        #expect(fs.inodes.isFreshlyListed(data))
    }

    @Test func lookupsDuringAListingWaitForIt() async throws {
        let walks = DirectoryWalks(threshold: 1, window: .seconds(60), maxPages: 1)
        let directory = InodeNumber(7)
        let first = try #require(walks.noteMiss(in: directory) { true })
        let second = try #require(walks.noteMiss(in: directory) { Issue.record("a second listing started"); return true })
        #expect(first == second)
        #expect(await second.value)
    }
}

/// A listing answers lookups only while it still holds every name: after the kernel forgets a listed entry (as
/// it does when its caches are dropped), looking the name up asks S3 again instead of reporting it missing.
@Suite struct ListingAfterForgetTests {
    @Test func aForgottenEntryIsFoundAgain() async throws {
        let store = MockObjectStore()
        store.put("dir/f", "x")
        let fs = makeFileSystem(store)
        let dir = try await fs.lookup(parent: .root, name: "dir").attributes.inode
        let entries = try await readWholeDirectory(fs, .root, capacity: 10, plus: true)
        #expect(entries.map(\.name) == [".", "..", "dir"])
        fs.forget(dir, count: 2)  // the lookup and the readdirplus entry
        #expect(fs.inodes.inode(dir) == nil)
        #expect(try await fs.lookup(parent: .root, name: "dir").attributes.kind == .directory)
    }
}
