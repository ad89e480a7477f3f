// Directory operations: opendir, readdir/readdirplus, releasedir.
import Logging
import ObjectStore

extension FileSystem {
    public func opendir(_ number: InodeNumber) async throws(FSError) -> UInt64 {
        _ = try directoryInode(number)
        return directories.insert(DirectoryHandle(inode: number))
    }

    /// Fills `replier` from `offset` on, reading the directory's pages from S3 as the kernel gets to them: the first
    /// names of a huge directory show after its first page. Offset 0 (a new read, or rewinddir) starts a new pass
    /// over the listing. A reply that holds entries goes back before the next page is asked for, so a page that
    /// fails fails the call that needs it, never entries already in hand. With `plus`, each entry that fits counts
    /// one kernel lookup of its inode.
    public func readdir<R: DirectoryReplier>(
        handle: UInt64, offset: UInt64, plus: Bool, into replier: inout R
    ) async throws(FSError) {
        guard let directory = directories.get(handle) else { throw .badHandle(handle) }
        let directoryInode = try directoryInode(directory.inode)
        var next = offset
        let dots = [(".", directoryInode), ("..", inodes.inode(directoryInode.parent) ?? directoryInode)]
        while next < 2 {
            let (name, inode) = dots[Int(next)]
            let entry = DirectoryEntry(
                name: name, attributes: attributes(of: inode), nextOffset: next + 1, ttl: 0, isDotEntry: true)
            guard replier.add(entry) else { return }
            next += 1
        }
        var replied = false
        var pass: DirectoryHandle.Pass
        if offset > 0, let current = directory.pass, Int(next - 2) >= current.windowStart {
            pass = current
        } else {
            pass = startPass(of: directoryInode)
        }
        defer { directory.replacePass(pass) }
        while true {
            let index = Int(next - 2)
            guard index < pass.produced else {
                if pass.stream.isComplete || replied { return }
                try await readPage(into: &pass, of: directoryInode)
                continue
            }
            pass.drop(before: index)
            for resolved in pass.window {
                // Counted before it is offered, and given back if it does not fit, so a concurrent forget can never
                // drop an inode the kernel is about to hold. A name this mount removed since the pass started is
                // left out (its page was read before).
                guard let inode = inodes.answer(
                    parent: directory.inode, entry: resolved, ttl: config.metadataTTL, countLookup: plus,
                    askedAt: pass.startedAt)
                else {
                    next += 1
                    continue
                }
                let entry = DirectoryEntry(
                    name: resolved.name, attributes: attributes(of: inode), nextOffset: next + 1,
                    ttl: plus ? entryTTL(inode, listedIn: directory.inode) : config.metadataTTL, isDotEntry: false)
                guard replier.add(entry) else {
                    if plus { inodes.uncountLookup(inode.number) }
                    return
                }
                next += 1
                replied = true
            }
        }
    }

    public func releasedir(handle: UInt64) {
        directories.remove(handle)
    }

    /// A new pass over the listing of `directory`, starting before its first page.
    private func startPass(of directory: Inode) -> DirectoryHandle.Pass {
        // Taken before the first LIST: a file whose upload completes meanwhile is in one or the other, never in neither.
        let stream = DirectoryStream(
            directoryKey: directory.key, directoryMtime: mountTime, staged: stagedEntries(in: directory.key))
        return DirectoryHandle.Pass(stream: stream, evictionsAtStart: inodes.evictions, startedAt: .now)
    }

    /// Reads the pass's next page, records what it says about each name, and adds the entries it makes certain. A
    /// pass that ends without an inode of the table evicted on the way is a complete listing: it answers lookups
    /// for the metadata TTL, counted from before its first page.
    private func readPage(into pass: inout DirectoryHandle.Pass, of directory: Inode) async throws(FSError) {
        guard let request = pass.stream.nextRequest else { return }
        let batch: DirectoryStream.Batch
        let askedAt = ContinuousClock.now
        do {
            batch = try pass.stream.take(try await store.list(request))
        } catch {
            throw FSError(error, operation: "list", key: directory.key)
        }
        warn(hidden: batch.hidden, shownWithStandIns: batch.shownWithStandIns)
        inodes.upsertListed(parent: directory.number, entries: batch.listed, ttl: config.metadataTTL, askedAt: askedAt)
        pass.window += batch.entries
        if pass.stream.isComplete, inodes.evictions == pass.evictionsAtStart {
            inodes.markListed(directory.number, at: pass.startedAt, ttl: config.metadataTTL)
            walks.noteListed(directory.number, entries: pass.produced)
        }
    }

    private func warn(hidden: [DirectoryListing.KeyNote], shownWithStandIns: [DirectoryListing.KeyNote]) {
        for note in hidden { warnHidden(note.key, reason: note.reason) }
        for note in shownWithStandIns { warnOnce(note.key, "showing key with a value S3 did not give", reason: note.reason) }
    }

    /// Lists directory `number` from S3 and records what it holds; nil when it has more than `maxPages` pages
    /// (what was read is recorded, but the listing does not count as complete).
    func listDirectory(_ number: InodeNumber, maxPages: Int) async throws(FSError) -> [ResolvedEntry]? {
        let directory = try directoryInode(number)
        // Taken before the LIST: a file whose upload completes meanwhile is in one or the other, never in neither.
        let staged = stagedEntries(in: directory.key)
        let askedAt = ContinuousClock.now
        let page: ListPage
        do {
            page = try await store.listAll(prefix: directory.key, delimiter: "/", maxPages: maxPages)
        } catch {
            throw FSError(error, operation: "list", key: directory.key)
        }
        let listing = DirectoryListing(directoryKey: directory.key, page: page, directoryMtime: mountTime)
        warn(hidden: listing.hidden, shownWithStandIns: listing.shownWithStandIns)
        // The listing's freshness starts before its entries' own, so it never outlives one of them: a name it holds
        // is always found fresh while the listing still answers "missing" for names it does not hold.
        let listedAt = ContinuousClock.now
        let entries = merge(listing.entries, staged)
        inodes.upsertListed(parent: number, entries: entries, ttl: config.metadataTTL, askedAt: askedAt)
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
}
