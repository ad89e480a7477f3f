import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

@Suite struct ReaddirPlusTests {
    let store = MockObjectStore()
    let fs: FileSystem

    init() {
        for name in ["f1", "f2", "f3", "f4", "f5"] { store.put(name, name) }
        fs = makeFileSystem(store)
    }

    @Test func onlyEntriesThatFitCountALookup() async throws {
        let handle = try await fs.opendir(.root)
        var replier = ArrayDirectoryReplier(capacity: 4)
        try await fs.readdir(handle: handle, offset: 0, plus: true, into: &replier)
        #expect(replier.names == [".", "..", "f1", "f2"])
        let held = replier.entries.dropFirst(2).map(\.attributes.inode)
        for inode in held { #expect(fs.inodes.inode(inode)?.lookupCount == 1) }
        // The refused f3 is known from the listing but holds no kernel lookup.
        let refused = try #require(fs.inodes.inode(InodeNumber(held.map(\.rawValue).max()! + 1)))
        #expect(refused.name == "f3")
        #expect(refused.lookupCount == 0)
        for inode in held { fs.forget(inode, count: 1) }
        for inode in held { #expect(fs.inodes.inode(inode) == nil, "forgotten to zero, so gone") }
        fs.releasedir(handle: handle)
    }

    @Test func aWholeListingCountsOneLookupPerEntry() async throws {
        let entries = try await readWholeDirectory(fs, .root, capacity: 2, plus: true)
        let files = entries.filter { !$0.isDotEntry }
        #expect(files.map(\.name) == ["f1", "f2", "f3", "f4", "f5"])
        for entry in files { #expect(fs.inodes.inode(entry.attributes.inode)?.lookupCount == 1, "\(entry.name)") }
        for entry in files { fs.forget(entry.attributes.inode, count: 1) }
        #expect(fs.inodes.count == 1)
    }

    @Test func readdirplusAddsToLookupsTheKernelAlreadyHolds() async throws {
        let f1 = try await fs.lookup(parent: .root, name: "f1").attributes.inode
        let entries = try await readWholeDirectory(fs, .root, capacity: 100, plus: true)
        #expect(entries.first { $0.name == "f1" }?.attributes.inode == f1)
        #expect(fs.inodes.inode(f1)?.lookupCount == 2)
    }

    @Test func plainReaddirCountsNoLookup() async throws {
        let entries = try await readWholeDirectory(fs, .root, capacity: 100, plus: false)
        for entry in entries.dropFirst(2) { #expect(fs.inodes.inode(entry.attributes.inode)?.lookupCount ?? 0 == 0) }
    }
}
