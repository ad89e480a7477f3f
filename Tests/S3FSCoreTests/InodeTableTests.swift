import ObjectStore
@testable import S3FSCore
import Testing

@Suite struct InodeTableTests {
    let table = InodeTable(rootKey: "", rootMtime: 0)

    static func file(_ name: String, size: UInt64 = 1) -> ResolvedEntry {
        .file(name: name, object: ObjectInfo(key: name, size: size, lastModified: 1, etag: ETag("\"e\"")))
    }

    static func directory(_ name: String) -> ResolvedEntry { .directory(name: name, prefix: name + "/", mtime: 1) }

    @Test func aNameKeepsItsNumberAcrossLookups() {
        let first = table.upsert(parent: .root, entry: Self.file("a"), ttl: 60, countLookup: true)
        let second = table.upsert(parent: .root, entry: Self.file("a", size: 9), ttl: 60, countLookup: true)
        #expect(first.number == second.number)
        #expect(first.number != .root)
        #expect(second.size == 9)
        #expect(table.inode(first.number)?.lookupCount == 2)
    }

    /// A LIST sent while this mount's upload of a file was under way, answered after the upload landed, shows the
    /// version before it: it must not put that version's size back (a stat after close showed the old size), nor
    /// make it fresh. A listing asked for after the upload landed is news and replaces it.
    @Test func aListingAskedBeforeAnUploadLandedDoesNotReplaceIt() {
        let file = table.upsert(parent: .root, entry: Self.file("c", size: 716_800), ttl: 60, countLookup: true)
        let asked = ContinuousClock.now
        table.noteUploaded(file.number, size: 1000, mtime: 2)
        table.upsertListed(parent: .root, entries: [Self.file("c", size: 716_800)], ttl: 60, askedAt: asked)
        #expect(table.inode(file.number)?.size == 1000)
        #expect(table.inode(file.number).map { $0.freshUntil <= .now } == true, "the stale answer made it fresh")
        let looked = table.answer(
            parent: .root, entry: Self.file("c", size: 716_800), ttl: 60, countLookup: true, askedAt: asked)
        #expect(looked?.number == file.number)
        #expect(table.inode(file.number)?.size == 1000)
        #expect(table.inode(file.number)?.lookupCount == 2)
        let headed = ObjectInfo(key: "c", size: 716_800, lastModified: 1, etag: ETag("\"e\""))
        #expect(table.refresh(file.number, from: headed, ttl: 60, askedAt: asked)?.size == 1000, "a HEAD asked before")
        let later = ContinuousClock.now
        table.upsertListed(parent: .root, entries: [Self.file("c", size: 1000)], ttl: 60, askedAt: later)
        #expect(table.inode(file.number)?.size == 1000)
        #expect(table.inode(file.number).map { $0.freshUntil > .now } == true)
        table.upsertListed(parent: .root, entries: [Self.file("c", size: 5)], ttl: 60, askedAt: .now)
        #expect(table.inode(file.number)?.size == 5, "a listing asked after the upload is news")
    }

    /// A name this mount unlinked or renamed away is not brought back by a listing asked for before then (a LIST in
    /// flight meanwhile still shows it); a listing asked for after it is news.
    @Test func aListingAskedBeforeANameWentDoesNotBringItBack() {
        let directory = table.upsert(parent: .root, entry: Self.directory("d"), ttl: 60, countLookup: true)
        table.upsert(parent: directory.number, entry: Self.file("gone"), ttl: 60, countLookup: false)
        let moved = table.upsert(parent: directory.number, entry: Self.file("old"), ttl: 60, countLookup: true)
        let asked = ContinuousClock.now
        table.removeChild(of: directory.number, named: "gone")
        table.move(moved.number, to: directory.number, name: "new", key: "d/new")
        table.upsertListed(
            parent: directory.number, entries: [Self.file("gone"), Self.file("old")], ttl: 60, askedAt: asked)
        #expect(table.child(of: directory.number, named: "gone", countLookup: false) == nil)
        #expect(table.child(of: directory.number, named: "old", countLookup: false) == nil)
        #expect(table.child(of: directory.number, named: "new", countLookup: false)?.number == moved.number)
        table.upsertListed(parent: directory.number, entries: [Self.file("gone")], ttl: 60, askedAt: .now)
        #expect(table.child(of: directory.number, named: "gone", countLookup: false) != nil, "a later listing is news")
    }

    /// A lookup whose HEAD or LIST was in flight while this mount removed the name finds it gone; a rename onto a
    /// name is a change of that name too (a listing asked before shows the object the rename replaced).
    @Test func anAnswerAskedBeforeARemovalOrARenameOntoTheNameChangesNothing() {
        let gone = table.upsert(parent: .root, entry: Self.file("gone"), ttl: 60, countLookup: true)
        let moved = table.upsert(parent: .root, entry: Self.file("src", size: 7), ttl: 60, countLookup: true)
        table.upsert(parent: .root, entry: Self.file("dst", size: 3), ttl: 60, countLookup: true)
        let asked = ContinuousClock.now
        table.removeChild(of: .root, named: "gone")
        table.move(moved.number, to: .root, name: "dst", key: "dst")
        #expect(table.answer(parent: .root, entry: Self.file("gone"), ttl: 60, countLookup: true, askedAt: asked) == nil)
        #expect(table.inode(gone.number)?.lookupCount == 1, "no lookup counted for a name that went")
        table.upsertListed(parent: .root, entries: [Self.file("dst", size: 3)], ttl: 60, askedAt: asked)
        #expect(table.child(of: .root, named: "dst", countLookup: false)?.number == moved.number)
        #expect(table.inode(moved.number)?.size == 7, "the listing put back the size of the object the rename replaced")
        let later = table.answer(parent: .root, entry: Self.file("gone"), ttl: 60, countLookup: true, askedAt: .now)
        #expect(later != nil, "an answer asked after the removal is news")
    }

    /// Lookups of names that never existed (a job probing paths) record nothing, so they cannot push out the record
    /// of a name this mount removed while a listing that still shows it is in flight.
    @Test func missingNamesDoNotCrowdOutARemoval() {
        table.upsert(parent: .root, entry: Self.file("gone"), ttl: 60, countLookup: true)
        let asked = ContinuousClock.now
        table.removeChild(of: .root, named: "gone")
        for probe in 0...InodeTable.maxMissing { table.removeChild(of: .root, named: "probe\(probe)") }
        table.upsertListed(parent: .root, entries: [Self.file("gone")], ttl: 60, askedAt: asked)
        #expect(table.child(of: .root, named: "gone", countLookup: false) == nil)
    }

    @Test func differentNamesGetDifferentNumbers() {
        let a = table.upsert(parent: .root, entry: Self.file("a"), ttl: 60, countLookup: true)
        let b = table.upsert(parent: .root, entry: Self.file("b"), ttl: 60, countLookup: true)
        let nested = table.upsert(parent: a.number, entry: Self.file("a"), ttl: 60, countLookup: true)
        #expect(Set([a.number, b.number, nested.number, .root]).count == 4)
    }

    @Test func forgetRemovesOnlyAtZero() {
        let a = table.upsert(parent: .root, entry: Self.file("a"), ttl: 60, countLookup: true)
        table.upsert(parent: .root, entry: Self.file("a"), ttl: 60, countLookup: true)
        table.forget(a.number, count: 1)
        #expect(table.inode(a.number)?.lookupCount == 1)
        table.forget(a.number, count: 1)
        #expect(table.inode(a.number) == nil)
        #expect(table.count == 1)
    }

    @Test func forgetMoreThanHeldRemovesWithoutUnderflow() {
        let a = table.upsert(parent: .root, entry: Self.file("a"), ttl: 60, countLookup: true)
        table.forget(a.number, count: 5)
        #expect(table.inode(a.number) == nil)
        table.forget(a.number, count: 1)  // an unknown number is ignored
        #expect(table.count == 1)
    }

    @Test func forgetOfRootIsIgnored() {
        table.forget(.root, count: 1000)
        #expect(table.inode(.root)?.kind == .directory)
        #expect(table.inode(.root)?.lookupCount == 1)
    }

    @Test func aKindChangeGetsANewNumber() {
        let file = table.upsert(parent: .root, entry: Self.file("a"), ttl: 60, countLookup: true)
        let directory = table.upsert(parent: .root, entry: Self.directory("a"), ttl: 60, countLookup: true)
        #expect(directory.number != file.number)
        #expect(directory.kind == .directory)
        // The kernel still holds the old file inode until it forgets it; it keeps its kind.
        #expect(table.inode(file.number)?.kind == .file)
        table.forget(file.number, count: 1)
        #expect(table.inode(file.number) == nil)
        #expect(table.inode(directory.number)?.kind == .directory)
    }

    @Test func numbersAreNeverReused() {
        var seen: Set<InodeNumber> = [.root]
        for round in 0..<50 {
            let name = "n\(round % 3)"
            let inode = table.upsert(parent: .root, entry: Self.file(name), ttl: 60, countLookup: true)
            #expect(seen.insert(inode.number).inserted, "number \(inode.number) reused")
            table.forget(inode.number, count: 1)
        }
    }

    @Test func freshChildIsServedAndCountedOnlyWithinTTL() {
        let fresh = table.upsert(parent: .root, entry: Self.file("fresh"), ttl: 3600, countLookup: true)
        let stale = table.upsert(parent: .root, entry: Self.file("stale"), ttl: 0, countLookup: true)
        #expect(table.lookupFreshChild(of: .root, named: "fresh")?.number == fresh.number)
        #expect(table.inode(fresh.number)?.lookupCount == 2)
        #expect(table.lookupFreshChild(of: .root, named: "stale") == nil)
        #expect(table.inode(stale.number)?.lookupCount == 1)
        #expect(table.lookupFreshChild(of: .root, named: "missing") == nil)
    }

    @Test func removedChildStaysUntilForgottenButIsNotFoundAgain() {
        let held = table.upsert(parent: .root, entry: Self.file("held"), ttl: 3600, countLookup: true)
        table.removeChild(of: .root, named: "held")
        #expect(table.inode(held.number) != nil)
        #expect(table.lookupFreshChild(of: .root, named: "held") == nil)
        let again = table.upsert(parent: .root, entry: Self.file("held"), ttl: 3600, countLookup: true)
        #expect(again.number != held.number)
        table.forget(held.number, count: 1)
        #expect(table.inode(held.number) == nil)
        #expect(table.inode(again.number) != nil)
    }

    @Test func forgettingADirectoryDropsItsUnheldChildren() {
        let directory = table.upsert(parent: .root, entry: Self.directory("d"), ttl: 60, countLookup: true)
        let listed = table.upsert(parent: directory.number, entry: Self.file("x"), ttl: 60, countLookup: false)
        let held = table.upsert(parent: directory.number, entry: Self.file("y"), ttl: 60, countLookup: true)
        table.forget(directory.number, count: 1)
        #expect(table.inode(directory.number) == nil)
        #expect(table.inode(listed.number) == nil)
        #expect(table.inode(held.number) != nil)
    }
}
