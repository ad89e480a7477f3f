// FileSystem: the POSIX view of one bucket prefix, independent of FUSE.
//
// The bridge calls one async method per FUSE operation and gets back core values (EntryReply, FileAttributes,
// bytes) or an FSError carrying the errno. Nothing here blocks a thread: S3 calls are awaited, shared state sits
// behind short Mutex sections (InodeTable, HandleTable).
//
// Names: a directory is a key prefix ending in "/" (from LIST common prefixes or an explicit "dir/" marker object);
// a file is an object; a directory wins over a file of the same name (NameResolver). Metadata learnt from S3 —
// from lookups and from directory listings — is trusted for `metadataTTL` seconds, here and in the kernel's
// caches; within that time a name missing from a listed directory does not exist. See docs/SEMANTICS.md.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import ObjectStore
import Synchronization

public final class FileSystem: Sendable {
    let store: any ObjectStore
    let config: FileSystemConfig
    let logger: Logger
    let inodes: InodeTable
    let files = HandleTable<FileHandle>()
    let directories = HandleTable<DirectoryHandle>()
    let fetcher: BlockFetcher
    /// The cache tier under --cache-dir, when it is on and its directory usable.
    let cacheTier: DiskBlockCache?
    let walks = DirectoryWalks()
    /// Names handed to the kernel for longer than the TTL; nil when leases are off.
    let leases: EntryLeases?
    let readStats = ReadStats()
    /// Open handles that have read ahead (sequential readers); they share half the memory budget for it.
    let readingAhead = Atomic<Int>(0)
    /// Read-ahead across the files of a directory a job is reading; nil when turned off.
    let dataset: DatasetReadAhead?
    /// Read-ahead of the files a --prefetch-manifest lists; nil without one.
    let manifest: ManifestReadAhead?
    /// Handles of files read from or written to their staged copy (numbers tagged with StagedHandle.tag).
    let stagedHandles = HandleTable<StagedHandle>()
    /// The implicit handles of a mount that answers no open, one per inode read.
    let openless = OpenlessHandles()
    /// Files being staged (fetched for writing), by key, so concurrent opens share one copy.
    let preparing = Mutex<[String: Task<Result<StagedFile, FSError>, Never>]>([:])
    /// The write path; nil on a read-only mount or when the staging directory could not be set up.
    let writeback: Writeback?
    /// Why the write path is missing although writes were asked for (answered to every write).
    let writebackFailure: FSError?
    /// When the mount started: the mtime of directories, which S3 does not have.
    let mountTime: Double
    private let warnedKeys = Mutex<Set<String>>([])

    public init(store: any ObjectStore, config: FileSystemConfig, logger: Logger, mountTime: Double) {
        self.store = store
        self.config = config
        self.logger = logger
        self.mountTime = mountTime
        self.inodes = InodeTable(rootKey: config.prefix, rootMtime: mountTime, limit: config.maxCachedNames)
        self.leases = config.metadataTTL > 0 && config.metadataLease > config.metadataTTL
            ? EntryLeases(seconds: config.metadataLease) : nil
        let budget = MemoryBudget(limit: config.reads.memoryLimit)
        let scheduler = FetchScheduler(
            maxConcurrent: config.reads.maxConcurrentFetches, maxUploads: config.writes?.uploadConcurrency ?? 1)
        self.cacheTier = config.reads.cacheTier.flatMap {
            DiskBlockCache.open(
                $0, blockSize: config.reads.blockSize, maxPendingStoreBytes: config.reads.memoryLimit / 4, logger: logger)
        }
        let fetcher = BlockFetcher(
            store: store, cache: MemoryBlockCache(pool: BlockMemoryPool(bufferSize: config.reads.blockSize, budget: budget)),
            tier: cacheTier, scheduler: scheduler, blockSize: config.reads.blockSize)
        self.fetcher = fetcher
        let inodes = self.inodes
        self.dataset = config.reads.datasetReadAhead ? DatasetReadAhead(
            fetcher: fetcher, memoryShare: UInt64(config.reads.memoryLimit / 2), maxInFlight: scheduler.maxPrefetch / 2
        ) { directory in
            inodes.listedFiles(of: directory)?.map { file in
                DatasetWalk.File(
                    name: file.name, object: ObjectVersion(key: file.key, etag: file.etag, size: file.size),
                    prefetchBytes: min(file.size, UInt64(config.reads.blockSize)))
            }
        } : nil
        self.manifest = config.reads.prefetchManifest.isEmpty ? nil : ManifestReadAhead(
            keys: config.reads.prefetchManifest.map { config.prefix + $0 }, fetcher: fetcher,
            memoryShare: UInt64(config.reads.memoryLimit / 2), maxInFlight: scheduler.maxPrefetch / 2, logger: logger)
        manifest?.start()
        var writeback: Writeback?
        var failure: FSError?
        if let writes = config.writes, !config.readOnly {
            let inodes = self.inodes
            do {
                writeback = try Writeback(store: store, config: writes, scheduler: scheduler, logger: logger) { file in
                    let (inode, size, mtime) = file.state.withLock { ($0.inode, $0.size, $0.mtime) }
                    if let inode { inodes.noteUploaded(inode, size: size, mtime: mtime) }
                }
            } catch {
                failure = error
            }
        }
        self.writeback = writeback
        self.writebackFailure = failure
    }

    // MARK: - Metadata

    public func lookup(parent: InodeNumber, name: String) async throws(FSError) -> EntryReply {
        if let answer = try lookupWithoutWaiting(parent: parent, name: name) { return answer }
        let directory = try directoryInode(parent)
        if let answer = try await answerFromWalkListing(parent: parent, name: name) { return answer }
        let askedAt = ContinuousClock.now
        guard let entry = try await resolve(name: name, in: directory) else {
            inodes.removeChild(of: parent, named: name)
            inodes.noteMissing(parent: parent, named: name, ttl: config.metadataTTL)
            throw .notFound("lookup \(directory.key)\(name)")
        }
        // Nil when this mount removed the name while S3 was being asked.
        guard let inode = inodes.answer(
            parent: parent, entry: entry, ttl: config.metadataTTL, countLookup: true, askedAt: askedAt)
        else { throw .notFound("lookup \(directory.key)\(name)") }
        return entryReply(inode)
    }

    /// The lookup, when what s3mount knows answers it (a fresh name, a fresh listing, a staged file); nil when
    /// `lookup` has to ask S3.
    public func lookupWithoutWaiting(parent: InodeNumber, name: String) throws(FSError) -> EntryReply? {
        if writeback != nil {
            // A file being written is found in the staging area first (a read-only mount stages nothing).
            let directory = try directoryInode(parent)
            try checkName(name)
            if let staged = lookupStaged(parent: parent, directory: directory, name: name) { return staged }
        }
        // The table's answer under one lock; a name it holds fresh is valid, any other is checked first.
        let (answer, listingRunsOut) = inodes.freshLookup(parent: parent, name: Array(name.utf8), margin: refreshMargin)
        // A lookup answered by a listing in the last fifth of its TTL: the next listing is started in the
        // background once the directory has earned it (DirectoryWalks), so lookups after the expiry find it fresh.
        if listingRunsOut { walks.noteHitNearExpiry(in: parent, list: listing(of: parent)) }
        switch answer {
        case .noDirectory: throw .notFound("\(parent)")
        case .notADirectory(let key): throw FSError(errno: ENOTDIR, "\(key): not a directory", logLevel: .debug)
        case .fresh(let inode, let listed): return listed ? entryReply(inode, listedIn: parent) : entryReply(inode)
        case .missing(let directoryKey):
            try checkName(name)
            throw .notFound("lookup \(directoryKey)\(name)")
        case .unknown:
            try checkName(name)
            return nil
        }
    }

    /// ENAMETOOLONG for a name over 255 bytes, ENOENT for one that no key can have.
    private func checkName(_ name: String) throws(FSError) {
        if name.utf8.count > PathNames.maxNameBytes {
            throw FSError(errno: ENAMETOOLONG, "lookup \"\(name.prefix(32))…\": name over 255 bytes", logLevel: .debug)
        }
        guard PathNames.isValid(name) else { throw .notFound("lookup \(name)") }
    }

    /// How long before a listing runs out a lookup it answers may start the next one: the last fifth of the TTL.
    private var refreshMargin: Duration { .milliseconds(Int64(config.metadataTTL * 1000 / 5)) }

    public func forget(_ inode: InodeNumber, count: UInt64) {
        inodes.forget(inode, count: count)
        if inodes.inode(inode) == nil {
            walks.forget(inode)
            leases?.revoke(inode)
            dataset?.forget(inode)
            for handle in openless.remove(inode) { release(handle: handle) }
        }
    }

    /// When `parent` is being walked name by name, lists it once and answers from the listing (nil: ask S3).
    private func answerFromWalkListing(parent: InodeNumber, name: String) async throws(FSError) -> EntryReply? {
        guard await walkListing(of: parent) else { return nil }
        if let cached = inodes.lookupFreshChild(of: parent, named: name) { return entryReply(cached, listedIn: parent) }
        if inodes.isFreshlyListed(parent) { throw .notFound("lookup \(name)") }
        return nil
    }

    /// Counts a request S3 would have to answer about a name in `directory`; when the directory is being walked,
    /// lists it once (shared by every caller meanwhile). True when that listing completed, so the inode table
    /// answers for the directory's names.
    private func walkListing(of directory: InodeNumber) async -> Bool {
        guard let listing = walks.noteMiss(in: directory, list: listing(of: directory)) else { return false }
        return await listing.value
    }

    /// One walk listing of `directory`: true when it was complete (and so answers for its names).
    private func listing(of directory: InodeNumber) -> @Sendable () async -> Bool {
        { [self] in
            let complete = (try? await listDirectory(directory, maxPages: walks.maxPages)) != nil
            walks.finished(directory, complete: complete)
            return complete
        }
    }

    public func getattr(_ number: InodeNumber) async throws(FSError) -> FileAttributes {
        if let known = try getattrWithoutWaiting(number) { return known }
        guard let inode = inodes.inode(number) else { throw .notFound("getattr \(number)") }
        return attributes(of: try await refreshFile(inode))
    }

    /// The attributes, when they are fresh (or local); nil when `getattr` has to ask S3.
    public func getattrWithoutWaiting(_ number: InodeNumber) throws(FSError) -> FileAttributes? {
        guard let inode = inodes.inode(number) else { throw .notFound("getattr \(number)") }
        guard inode.kind == .file, inode.freshUntil <= .now, !isStaged(inode) else { return attributes(of: inode) }
        return nil
    }

    /// How long the kernel may keep the attributes of `number`: the lease when its name is leased at the version it
    /// has (a writable mount's kernel asks for them after every read from s3mount, to learn the access time), else
    /// the TTL.
    public func attributesTTL(_ number: InodeNumber) -> Double {
        guard let leases, let inode = inodes.inode(number), inode.kind == .file, !isStaged(inode), leases.renew(inode)
        else { return config.metadataTTL }
        return leases.seconds
    }

    public func statfs() -> FileSystemStats { FileSystemStats() }

    /// How reads were served so far (for --stats-file).
    public var readStatistics: ReadStats.Snapshot {
        readStats.snapshot(
            dataset: dataset?.counters ?? DatasetReadAhead.Counters(),
            manifest: manifest?.counters ?? ManifestReadAhead.Counters())
    }

    /// How long the kernel may cache attributes and names.
    public var metadataTTL: Double { config.metadataTTL }

    /// The answer to an operation s3mount never supports on S3 (links, special files, extended attributes).
    public func refuseUnsupported(_ operation: String, errno code: Int32) -> FSError {
        FSError(errno: code, "\(operation): not supported on S3", logLevel: .debug)
    }

    // MARK: - Shared helpers

    func directoryInode(_ number: InodeNumber) throws(FSError) -> Inode {
        guard let inode = inodes.inode(number) else { throw .notFound("\(number)") }
        guard inode.kind == .directory else {
            throw FSError(errno: ENOTDIR, "\(inode.key): not a directory", logLevel: .debug)
        }
        return inode
    }

    /// What stat shows: S3's metadata, or for a file with a staged copy its local size and mtime. The staging
    /// area is asked first and, for a file made here (no ETag yet), the inode table after it: a staged copy
    /// leaves only once its upload has written its size into the table, so a copy that went between the caller's
    /// look and this one is never answered with the size `inode` had before the upload.
    func attributes(of inode: Inode) -> FileAttributes {
        var size = inode.size
        var mtime = inode.mtime
        if inode.kind == .file, let writeback {
            if let staged = writeback.staging.file(forKey: inode.key) {
                (size, mtime) = staged.state.withLock { ($0.size, $0.mtime) }
            } else if inode.etag == nil, let current = inodes.inode(inode.number) {
                (size, mtime) = (current.size, current.mtime)
            }
        }
        return FileAttributes(
            inode: inode.number, kind: inode.kind, size: size, mtime: mtime,
            permissions: inode.kind == .directory ? config.dirMode : config.fileMode, uid: config.uid, gid: config.gid)
    }

    func isStaged(_ inode: Inode) -> Bool {
        inode.kind == .file && writeback?.staging.file(forKey: inode.key) != nil
    }

    /// A name whose file has a staged copy is answered locally: it may not be in S3 yet.
    private func lookupStaged(parent: InodeNumber, directory: Inode, name: String) -> EntryReply? {
        guard let writeback, let file = writeback.staging.file(forKey: directory.key + name) else { return nil }
        if let inode = inodes.child(of: parent, named: name, countLookup: true), inode.kind == .file {
            return entryReply(inode)
        }
        let (size, mtime) = file.state.withLock { ($0.size, $0.mtime) }
        let entry = ResolvedEntry(name: name, kind: .file, key: file.key, size: size, mtime: mtime, etag: nil)
        let inode = inodes.upsert(parent: parent, entry: entry, ttl: config.metadataTTL, countLookup: true)
        file.state.withLock { $0.inode = inode.number }
        return entryReply(inode)
    }

    func entryReply(_ inode: Inode) -> EntryReply {
        EntryReply(attributes: attributes(of: inode), ttl: config.metadataTTL)
    }

    /// The reply for `inode` found in a listing of `directory`.
    func entryReply(_ inode: Inode, listedIn directory: InodeNumber) -> EntryReply {
        EntryReply(attributes: attributes(of: inode), ttl: entryTTL(inode, listedIn: directory))
    }

    /// How long the kernel may keep `inode`, found in a listing of `directory`: a lease, for a file of S3 on a mount
    /// that gives them (while the directory holds one or one more fits), else the TTL. A file this mount is writing
    /// keeps the TTL: its name and size are the mount's own until its upload lands.
    func entryTTL(_ inode: Inode, listedIn directory: InodeNumber) -> Double {
        guard let leases, inode.kind == .file, inode.etag != nil, !isStaged(inode), leases.grant(inode, in: directory)
        else { return config.metadataTTL }
        return leases.seconds
    }

    /// Re-reads a file's metadata from S3 once its TTL has passed: from one listing of its directory when the
    /// directory is being walked (epoch 2 of a dataset costs a LIST per directory, not a HEAD per file), else HEAD.
    func refreshFile(_ inode: Inode) async throws(FSError) -> Inode {
        if inode.number != .root, await walkListing(of: inode.parent), let listed = inodes.inode(inode.number),
            listed.freshUntil > .now, listed.etag != nil
        {
            return listed
        }
        let object: ObjectInfo
        let askedAt = ContinuousClock.now
        do {
            object = try await store.head(key: inode.key)
        } catch {
            throw FSError(error, operation: "head", key: inode.key)
        }
        guard let refreshed = inodes.refresh(inode.number, from: object, ttl: config.metadataTTL, askedAt: askedAt)
        else {
            throw .notFound("getattr \(inode.key)")
        }
        return refreshed
    }

    /// Logs a key that cannot be shown, once per key for the life of the mount.
    func warnHidden(_ key: String, reason: String) {
        warnOnce(key, "hiding key that cannot be a POSIX path", reason: reason)
    }

    /// Logs `message` about `key` at warning, once per key for the life of the mount (whatever the message).
    func warnOnce(_ key: String, _ message: Logger.Message, reason: String) {
        let isNew = warnedKeys.withLock { warned in
            warned.count < 100_000 && warned.insert(key).inserted
        }
        if isNew {
            logger.warning(message, metadata: ["s3.key": "\(PathNames.printable(key))", "reason": "\(reason)"])
        }
    }
}
