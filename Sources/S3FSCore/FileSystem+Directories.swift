// Directory operations: opendir, readdir/readdirplus, releasedir.
import Logging
import ObjectStore

extension FileSystem {
    public func opendir(_ number: InodeNumber) async throws(FSError) -> UInt64 {
        _ = try directoryInode(number)
        return directories.insert(DirectoryHandle(inode: number))
    }

    /// Fills `replier` from `offset` on. Offset 0 (a new read, or rewinddir) lists the directory from S3 again.
    /// With `plus`, each entry that fits counts one kernel lookup of its inode.
    public func readdir<R: DirectoryReplier>(
        handle: UInt64, offset: UInt64, plus: Bool, into replier: inout R
    ) async throws(FSError) {
        guard let directory = directories.get(handle) else { throw .badHandle(handle) }
        let entries: [ResolvedEntry]
        if offset == 0 || directory.entries == nil {
            entries = try await listDirectory(directory.inode)
            directory.replaceEntries(entries)
        } else {
            entries = directory.entries ?? []
        }
        try fill(&replier, directory: directory.inode, entries: entries, from: offset, plus: plus)
    }

    public func releasedir(handle: UInt64) {
        directories.remove(handle)
    }

    /// Lists the whole directory from S3, every page.
    func listDirectory(_ number: InodeNumber) async throws(FSError) -> [ResolvedEntry] {
        try await listDirectory(number, maxPages: .max) ?? []
    }

    /// Lists directory `number` from S3 and records what it holds; nil when it has more than `maxPages` pages
    /// (what was read is recorded, but the listing does not count as complete).
    func listDirectory(_ number: InodeNumber, maxPages: Int) async throws(FSError) -> [ResolvedEntry]? {
        let directory = try directoryInode(number)
        // Taken before the LIST: a file whose upload completes meanwhile is in one or the other, never in neither.
        let staged = stagedEntries(in: directory.key)
        let page: ListPage
        do {
            page = try await store.listAll(prefix: directory.key, delimiter: "/", maxPages: maxPages)
        } catch {
            throw FSError(error, operation: "list", key: directory.key)
        }
        let listing = DirectoryListing(directoryKey: directory.key, page: page, directoryMtime: mountTime)
        for hidden in listing.hidden { warnHidden(hidden.key, reason: hidden.reason) }
        for shown in listing.shownWithStandIns {
            warnOnce(shown.key, "showing key with a value S3 did not give", reason: shown.reason)
        }
        // The listing's freshness starts before its entries' own, so it never outlives one of them: a name it holds
        // is always found fresh while the listing still answers "missing" for names it does not hold.
        let listedAt = ContinuousClock.now
        let entries = merge(listing.entries, staged)
        for entry in entries {
            inodes.upsert(parent: number, entry: entry, ttl: config.metadataTTL, countLookup: false)
        }
        guard page.nextContinuationToken == nil else { return nil }
        inodes.markListed(number, at: listedAt, ttl: config.metadataTTL)
        walks.noteListed(number, entries: entries.count)
        return entries
    }

    /// The files staged directly in the directory `directoryKey`, as entries.
    private func stagedEntries(in directoryKey: String) -> [ResolvedEntry] {
        (writeback?.staging.files(under: directoryKey) ?? []).compactMap { file in
            let (key, size, mtime) = file.state.withLock { ($0.key, $0.size, $0.mtime) }
            let name = String(decoding: key.utf8.dropFirst(directoryKey.utf8.count), as: UTF8.self)
            guard !name.isEmpty, !name.contains("/") else { return nil }
            return ResolvedEntry(name: name, kind: .file, key: key, size: size, mtime: mtime, etag: nil)
        }
    }

    /// The listing with the staged files S3 does not show yet, in name order.
    private func merge(_ entries: [ResolvedEntry], _ staged: [ResolvedEntry]) -> [ResolvedEntry] {
        guard !staged.isEmpty else { return entries }
        let listed = Set(entries.map { Array($0.name.utf8) })
        let merged = entries + staged.filter { !listed.contains(Array($0.name.utf8)) }
        return merged.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    /// Offsets: 1 is after ".", 2 after "..", 2 + i after entries[i - 1].
    private func fill<R: DirectoryReplier>(
        _ replier: inout R, directory: InodeNumber, entries: [ResolvedEntry], from offset: UInt64, plus: Bool
    ) throws(FSError) {
        let directoryInode = try directoryInode(directory)
        let dots = [(".", directoryInode), ("..", inodes.inode(directoryInode.parent) ?? directoryInode)]
        var next = offset
        while next < 2 {
            let (name, inode) = dots[Int(next)]
            let entry = DirectoryEntry(
                name: name, attributes: attributes(of: inode), nextOffset: next + 1, ttl: 0, isDotEntry: true)
            guard replier.add(entry) else { return }
            next += 1
        }
        for resolved in entries.dropFirst(Int(next - 2)) {
            // Counted before it is offered, and given back if it does not fit, so a concurrent forget can never
            // drop an inode the kernel is about to hold.
            let inode = inodes.upsert(parent: directory, entry: resolved, ttl: config.metadataTTL, countLookup: plus)
            let entry = DirectoryEntry(
                name: resolved.name, attributes: attributes(of: inode), nextOffset: next + 1, ttl: config.metadataTTL,
                isDotEntry: false)
            guard replier.add(entry) else {
                if plus { inodes.uncountLookup(inode.number) }
                return
            }
            next += 1
        }
    }
}
