// Leases: names from a complete listing go to the kernel for the lease, not the TTL, on read-only and writable mounts
// alike (a file being written keeps the TTL), and the keeper takes back exactly the names whose object changed or went.
import Foundation
import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

@Suite struct EntryLeaseTests {
    let store = MockObjectStore()

    init() {
        store.put("d/a", "alpha")
        store.put("d/b", "beta")
        store.put("d/c", "gamma")
        store.put("top", "top")
    }

    static func config(lease: Double = 30) -> FileSystemConfig {
        FileSystemConfig(readOnly: true, metadataTTL: 1, metadataLease: lease)
    }

    /// The directory `d`, listed completely (as a readdir or a walk would), and its three files looked up.
    private func listedAndLookedUp(_ fs: FileSystem) async throws -> (InodeNumber, [String: EntryReply]) {
        let d = try await fs.lookup(parent: .root, name: "d").attributes.inode
        _ = try await readWholeDirectory(fs, d)
        var replies: [String: EntryReply] = [:]
        for name in ["a", "b", "c"] { replies[name] = try await fs.lookup(parent: d, name: name) }
        return (d, replies)
    }

    @Test func namesFromAListingAreLeasedOnAReadOnlyMount() async throws {
        let fs = makeFileSystem(store, config: Self.config())
        #expect(try await fs.lookup(parent: .root, name: "top").ttl == 1)  // resolved by its own LIST: the TTL
        let (d, replies) = try await listedAndLookedUp(fs)
        #expect(replies.values.map(\.ttl) == [30, 30, 30])
        #expect(try await fs.lookup(parent: .root, name: "d").ttl == 1)  // directories keep the TTL
        let plusEntries = try await readWholeDirectory(fs, d, plus: true).filter { !$0.isDotEntry }
        #expect(plusEntries.map(\.ttl) == [30, 30, 30])  // readdirplus hands out leases too
    }

    @Test(arguments: [0.0, 1.0])
    func noLeaseWithoutALeaseLongerThanTheTTL(lease: Double) async throws {
        let fs = makeFileSystem(store, config: Self.config(lease: lease))
        let (_, replies) = try await listedAndLookedUp(fs)
        #expect(replies.values.map(\.ttl) == [1, 1, 1])
        #expect(fs.leaseSeconds == nil)
        #expect(fs.keepLeases { _ in } == nil)
    }

    @Test func aWritableMountLeasesListedFilesButNotOneItIsWriting() async throws {
        let staging = makeStagingDirectory()
        defer { try? FileManager.default.removeItem(atPath: staging) }
        var config = writableConfig(staging: staging)
        config.metadataTTL = 1
        config.metadataLease = 30
        let fs = makeFileSystem(store, config: config)
        _ = try await fs.startWrites()
        let (d, replies) = try await listedAndLookedUp(fs)
        #expect(replies.values.map(\.ttl) == [30, 30, 30])
        // "a" opened for writing: staged, so its name and size are the mount's own until the upload lands.
        let a = replies["a"]!.attributes.inode
        let open = try await fs.open(a, flags: O_WRONLY | O_TRUNC)
        try fs.writeAll(open.handle, Array("rewritten".utf8))
        #expect(try await fs.lookup(parent: d, name: "a").ttl == 1)
        let plusEntries = try await readWholeDirectory(fs, d, plus: true).filter { !$0.isDotEntry }
        #expect(plusEntries.first { $0.name == "a" }?.ttl == 1)
        try await fs.flush(handle: open.handle)
        fs.release(handle: open.handle)
        await fs.drainAll()
        // Uploaded: a new ETag in S3, so the keeper takes the leased name back, and keeps the other two.
        _ = try await readWholeDirectory(fs, d)
        let changes = await fs.renewLeases(within: .seconds(10))
        #expect(Set(changes) == [.entry(parent: d, name: Array("a".utf8)), .inode(a, pages: true)])
    }

    @Test func attributesAskedAgainAreKeptForTheLeaseWhileTheNameIsLeasedAtThatVersion() async throws {
        let fs = makeFileSystem(store, config: Self.config())
        let top = try await fs.lookup(parent: .root, name: "top").attributes.inode
        let (d, replies) = try await listedAndLookedUp(fs)
        let b = replies["b"]!.attributes.inode
        #expect(fs.attributesTTL(b) == 30)
        #expect(fs.attributesTTL(top) == 1)  // not leased
        #expect(fs.attributesTTL(d) == 1)  // directories keep the TTL
        store.replace("d/b", with: Array("beta, longer".utf8))
        _ = await fs.renewLeases(within: .seconds(10))  // the keeper takes "b" back
        #expect(fs.attributesTTL(b) == 1)
    }

    @Test func attributesAskedAgainExtendTheLease() {
        let leases = EntryLeases(seconds: 30)
        let start = ContinuousClock.now
        let file = Inode(number: InodeNumber(10), parent: InodeNumber(2), name: "f", kind: .file, key: "d/f", size: 1,
                         mtime: 0, etag: ETag("e1"), lookupCount: 1, freshUntil: start)
        #expect(leases.grant(file, in: InodeNumber(2), now: start))
        #expect(leases.renew(file, now: start + .seconds(20)))
        #expect(leases.live(now: start + .seconds(45)) == [InodeNumber(2)])
        var changed = file
        changed.etag = ETag("e2")
        #expect(!leases.renew(changed, now: start + .seconds(46)))  // another version: not leased
        #expect(!leases.renew(file, now: start + .seconds(51)))  // the lease ran out
    }

    @Test func theKeeperTakesBackExactlyTheNamesThatChangedOrWent() async throws {
        let fs = makeFileSystem(store, config: Self.config())
        let (d, replies) = try await listedAndLookedUp(fs)
        store.replace("d/b", with: Array("beta, longer".utf8))
        store.delete("d/c")
        store.resetCalls()
        let changes = await fs.renewLeases(within: .seconds(10))  // the listing runs out within 10 s: listed again
        #expect(store.callCount(.list) == 1)
        let b = replies["b"]!.attributes.inode, c = replies["c"]!.attributes.inode
        #expect(Set(changes) == [
            .entry(parent: d, name: Array("b".utf8)), .inode(b, pages: true),
            .entry(parent: d, name: Array("c".utf8)), .inode(c, pages: false),
        ])
        // The next round takes the names back once more (a lookup answered before the change may have reached the
        // kernel after the first), then they are done with.
        #expect(Set(await fs.renewLeases(within: .seconds(10))) == [
            .entry(parent: d, name: Array("b".utf8)), .entry(parent: d, name: Array("c".utf8)),
        ])
        #expect(await fs.renewLeases(within: .seconds(10)).isEmpty)
        // The next lookup answered from a listing sees the new version, under a new lease. (Listed here, not left to
        // the keeper's listing: on a loaded machine that one can be more than the 1 s TTL old by now, and then the
        // lookup asks S3 for the one name and gets the TTL.)
        _ = try await readWholeDirectory(fs, d)
        let again = try await fs.lookup(parent: d, name: "b")
        #expect(again.attributes.size == 12 && again.ttl == 30)
    }

    @Test func aFreshListingIsNotRepeatedButItsChangesAreTakenBack() async throws {
        let fs = makeFileSystem(store, config: Self.config())
        let (d, _) = try await listedAndLookedUp(fs)
        store.delete("d/a")
        _ = try await readWholeDirectory(fs, d)  // someone else's listing sees the deletion
        store.resetCalls()
        let changes = await fs.renewLeases(within: .zero)
        #expect(store.callCount(.list) == 0)
        #expect(changes.contains(.entry(parent: d, name: Array("a".utf8))))
        #expect(changes.count == 2)
    }

    @Test func aFailedListingTakesBackEveryNameAndEndsTheLease() async throws {
        let faults = FaultInjectingStore(wrapping: store)
        let fs = makeFileSystem(faults, config: Self.config())
        let (d, _) = try await listedAndLookedUp(fs)
        faults.failAll(.list, with: .stub(ServiceError.Kind.serverError))
        let changes = await fs.renewLeases(within: .seconds(10))
        #expect(Set(changes) == Set(["a", "b", "c"].map { KernelInvalidation.entry(parent: d, name: Array($0.utf8)) }))
        faults.removeAllFaults()
        store.resetCalls()
        #expect(await fs.renewLeases(within: .seconds(10)).isEmpty)
        #expect(store.callCount(.list) == 0)  // no lease left, nothing listed
    }

    @Test func aLeaseRunsOutAndTheDirectoryCountIsBounded() {
        let leases = EntryLeases(seconds: 30, maxDirectories: 2)
        let start = ContinuousClock.now
        func file(_ n: UInt64) -> Inode {
            Inode(number: InodeNumber(n), parent: .root, name: "f\(n)", kind: .file, key: "f\(n)", size: 1, mtime: 0,
                  etag: nil, lookupCount: 1, freshUntil: start)
        }
        #expect(leases.grant(file(10), in: InodeNumber(2), now: start))
        #expect(leases.grant(file(11), in: InodeNumber(3), now: start))
        #expect(!leases.grant(file(12), in: InodeNumber(4), now: start))  // a third directory does not fit
        #expect(leases.grant(file(13), in: InodeNumber(2), now: start + .seconds(20)))  // extends the first
        #expect(Set(leases.live(now: start + .seconds(29))) == [InodeNumber(2), InodeNumber(3)])
        #expect(leases.live(now: start + .seconds(31)) == [InodeNumber(2)])
        #expect(leases.live(now: start + .seconds(51)).isEmpty)
        #expect(leases.grant(file(12), in: InodeNumber(4), now: start + .seconds(51)))  // room again
    }
}
