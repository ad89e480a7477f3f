// File writes: create, open for writing, write, flush (close), fsync, truncate and the other setattr changes.
//
// A file opened for writing is staged: its bytes live in a local staging file (a new file starts empty; an
// existing object is first fetched whole, pinned to its ETag), every write lands there, and Writeback makes the
// result durable — on local disk at close (writeback mode) or in S3 (fsync, and close in sync mode). While a staged
// copy exists, lookups, stat, listings and every open read it, not S3 (read-your-writes).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import ObjectStore

/// The attribute changes of one setattr call.
public struct AttributeChanges: Sendable, Hashable {
    public var size: UInt64?
    public var mode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?
    public var mtime: Double?

    public init(size: UInt64? = nil, mode: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil, mtime: Double? = nil) {
        self.size = size
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.mtime = mtime
    }
}

extension FileSystem {
    public func create(parent: InodeNumber, name: String, flags: Int32) async throws(FSError) -> (EntryReply, OpenReply) {
        let writeback = try writable("create \(name)")
        let directory = try directoryInode(parent)
        let key = try childKey(directory, name)
        if writeback.staging.file(forKey: key) != nil, let existing = inodes.child(of: parent, named: name, countLookup: true) {
            // The name is staged already (the kernel's negative entry was stale): open it, never replace it.
            return (entryReply(existing), try await openStaged(existing, flags: flags))
        }
        let file = try writeback.staging.create(key: key, inode: nil, base: .new, now: now(), dirty: true)
        let entry = ResolvedEntry(name: name, kind: .file, key: key, size: 0, mtime: now(), etag: nil)
        let inode = inodes.upsert(parent: parent, entry: entry, ttl: config.metadataTTL, countLookup: true)
        file.state.withLock { $0.inode = inode.number }
        let handle = openStaged(file, inode: inode.number, canWrite: true)
        return (entryReply(inode), OpenReply(handle: handle, keepCache: false, needsFlush: true))
    }

    /// Opens `inode` from its staged copy, staging it first when opened for writing or truncation.
    func openStaged(_ inode: Inode, flags: Int32) async throws(FSError) -> OpenReply {
        let writes = flags & O_ACCMODE != O_RDONLY
        let truncates = flags & O_TRUNC != 0 && writes
        var file = writeback?.staging.file(forKey: inode.key)
        if file == nil { file = try await stage(inode, empty: truncates) } else if truncates {
            try file!.truncate(to: 0, now: now())
            writeback?.noteWrite(file!)
        }
        return OpenReply(
            handle: openStaged(file!, inode: inode.number, canWrite: writes), keepCache: false, needsFlush: writes)
    }

    private func openStaged(_ file: StagedFile, inode: InodeNumber, canWrite: Bool) -> UInt64 {
        if canWrite { file.state.withLock { $0.writers += 1 } }
        inodes.countOpen(inode, +1)
        return stagedHandles.insert(StagedHandle(inode: inode, file: file, canWrite: canWrite)) | StagedHandle.tag
    }

    public func write(handle: UInt64, offset: UInt64, bytes: UnsafeRawBufferPointer) throws(FSError) -> Int {
        guard let staged = stagedHandle(handle), staged.canWrite else { throw .badHandle(handle) }
        let written = try unsafe staged.file.write(bytes, at: offset, now: now())
        writeback?.noteWrite(staged.file)
        return written
    }

    /// close(): the bytes are durable on local disk (writeback) or in S3 (sync) when this returns.
    /// Whether `flush` has anything to do (a handle that wrote); a read handle's flush is answered at once.
    public func flushNeedsWaiting(handle: UInt64) -> Bool {
        stagedHandle(handle)?.canWrite == true && writeback != nil
    }

    public func flush(handle: UInt64) async throws(FSError) {
        guard let staged = stagedHandle(handle), staged.canWrite, let writeback else { return }
        if writeback.config.mode == .sync {
            try await writeback.uploadNow(staged.file)
        } else {
            try await writeback.makeDurable(staged.file)
        }
    }

    /// fsync(): the bytes written so far are durable in S3 when this returns.
    public func fsync(handle: UInt64) async throws(FSError) {
        guard let staged = stagedHandle(handle), let writeback else { return }
        try await writeback.uploadNow(staged.file)
    }

    func readStaged(_ staged: StagedHandle, offset: UInt64, size: Int) throws(FSError) -> ReadData {
        ReadData(pieces: [.owned(try staged.file.read(at: offset, count: size))])
    }

    func releaseStaged(handle: UInt64) {
        guard let staged = stagedHandles.remove(handle & ~StagedHandle.tag) else { return }
        inodes.countOpen(staged.inode, -1)
        if staged.canWrite { writeback?.writerClosed(staged.file) }
    }

    func stagedHandle(_ handle: UInt64) -> StagedHandle? {
        guard StagedHandle.isStaged(handle) else { return nil }
        return stagedHandles.get(handle & ~StagedHandle.tag)
    }

    // MARK: - setattr

    public func setattr(_ number: InodeNumber, changes: AttributeChanges) async throws(FSError) -> FileAttributes {
        guard let inode = inodes.inode(number) else { throw .notFound("setattr \(number)") }
        let current = attributes(of: inode)
        let permissions = inode.kind == .directory ? config.dirMode : config.fileMode
        if let mode = changes.mode, mode & 0o7777 != permissions & 0o7777 {
            throw FSError(errno: EPERM, "chmod \(inode.key): permissions are set for the whole mount (--file-mode, --dir-mode)", logLevel: .debug)
        }
        if changes.uid.map({ $0 != config.uid }) == true || changes.gid.map({ $0 != config.gid }) == true {
            throw FSError(errno: EPERM, "chown \(inode.key): owners are set for the whole mount (--uid, --gid)", logLevel: .debug)
        }
        if let size = changes.size {
            guard inode.kind == .file else { throw FSError(errno: EISDIR, "truncate \(inode.key): is a directory") }
            try await truncate(inode, to: size)
        }
        if let mtime = changes.mtime, let file = writeback?.staging.file(forKey: inode.key) {
            file.state.withLock { $0.mtime = mtime }
        }
        return changes.size == nil && changes.mtime == nil ? current : attributes(of: inodes.inode(number) ?? inode)
    }

    private func truncate(_ inode: Inode, to size: UInt64) async throws(FSError) {
        let writeback = try writable("truncate \(inode.key)")
        let file: StagedFile
        if let staged = writeback.staging.file(forKey: inode.key) { file = staged } else { file = try await stage(inode, empty: size == 0) }
        try file.truncate(to: size, now: now())
        writeback.noteWrite(file)
        if file.state.withLock({ $0.writers }) == 0 {
            try await writeback.makeDurable(file)
            writeback.schedule(file)
        }
    }

    // MARK: - Staging an existing file

    /// A staged copy of `inode`: empty (O_TRUNC, truncate to 0) or holding the object's bytes, fetched whole and
    /// pinned to its ETag. Concurrent opens share one copy.
    func stage(_ inode: Inode, empty: Bool) async throws(FSError) -> StagedFile {
        let writeback = try writable("open \(inode.key) for writing")
        let task: Task<Result<StagedFile, FSError>, Never> = preparing.withLock { preparing in
            if let running = preparing[inode.key] { return running }
            let task = Task { [self] in
                defer { _ = self.preparing.withLock { $0.removeValue(forKey: inode.key) } }
                if let staged = writeback.staging.file(forKey: inode.key) { return Result<StagedFile, FSError>.success(staged) }
                do throws(FSError) {
                    return .success(try await fetchIntoStaging(inode, empty: empty))
                } catch {
                    return .failure(error)
                }
            }
            preparing[inode.key] = task
            return task
        }
        return try await task.value.get()
    }

    private func fetchIntoStaging(_ inode: Inode, empty: Bool) async throws(FSError) -> StagedFile {
        let writeback = try writable("open \(inode.key) for writing")
        let fresh = inode.etag == nil || inode.freshUntil <= .now ? try await refreshFile(inode) : inode
        let base: StagedFile.Base = fresh.etag.map { .version($0) } ?? .new
        let file = try writeback.staging.create(key: fresh.key, inode: fresh.number, base: base, now: now(), dirty: empty)
        file.state.withLock { state in
            state.mtime = fresh.mtime
            state.appendOnly = empty
        }
        guard !empty, fresh.size > 0, let etag = fresh.etag else { return file }
        let sink = StagingSink(file: file)
        do {
            try await store.get(key: fresh.key, range: nil, ifMatch: etag, into: sink)
        } catch {
            writeback.staging.remove(file)
            throw FSError(error, operation: "open for writing", key: fresh.key)
        }
        guard sink.failure == nil, sink.written == fresh.size else {
            writeback.staging.remove(file)
            throw sink.failure ?? FSError(errno: EIO, "open \(fresh.key) for writing: got \(sink.written) of \(fresh.size) bytes")
        }
        file.state.withLock { state in
            state.size = fresh.size
            state.copySource = StagedFile.CopySource(key: fresh.key, etag: etag, size: fresh.size, layout: writeback.layout)
        }
        return file
    }

    func writable(_ operation: String) throws(FSError) -> Writeback {
        if let writeback { return writeback }
        throw writebackFailure ?? .readOnly(operation)
    }

    /// The key of `name` in `directory`, checked against POSIX and S3 limits.
    func childKey(_ directory: Inode, _ name: String, suffix: String = "") throws(FSError) -> String {
        if name.utf8.count > PathNames.maxNameBytes {
            throw FSError(errno: ENAMETOOLONG, "\"\(name.prefix(32))…\": name over 255 bytes", logLevel: .debug)
        }
        guard PathNames.isValid(name) else {
            throw FSError(errno: EINVAL, "\"\(name)\": not a name s3mount can store as a key", logLevel: .debug)
        }
        let key = directory.key + name + suffix
        if key.utf8.count > UploadLimits.maxKeyBytes {
            throw FSError(errno: ENAMETOOLONG, "\"\(key.prefix(64))…\": key over 1,024 bytes", logLevel: .debug)
        }
        return key
    }

    func now() -> Double { Date().timeIntervalSince1970 }
}

/// Writes a GET's body into a staging file as it arrives.
private final class StagingSink: ByteSink, @unchecked Sendable {
    // @unchecked: the store calls `receive` from one I/O thread at a time, in order; the fields are read after
    // the GET returned.
    let file: StagedFile
    var written: UInt64 = 0
    var failure: FSError?

    init(file: StagedFile) { self.file = file }

    func receive(_ chunk: UnsafeRawBufferPointer) {
        guard failure == nil else { return }
        guard unsafe FileIO.pwriteAll(file.fd, chunk, at: written) else {
            failure = StagedFile.localError("write", key: file.key)
            return
        }
        written += UInt64(chunk.count)
    }
}

// MARK: - Mount and unmount

extension FileSystem {
    /// Before the mount goes live: fails when the write path could not be set up; otherwise restores what the
    /// journal owes to S3 (staged again, uploads queued) and aborts multipart uploads left behind. Nil on a
    /// read-only mount.
    public func startWrites() async throws(FSError) -> WriteRecovery? {
        if let writebackFailure { throw writebackFailure }
        guard let writeback else { return nil }
        let report = await writeback.recover()
        writeback.resume()
        return WriteRecovery(resumed: report.resumed, dropped: report.dropped, abortedUploads: report.abortedUploads)
    }

    /// At unmount: uploads everything owed for at most `timeout` seconds; how many files are still owed.
    public func drainWrites(timeout: Double) async -> Int {
        await writeback?.drain(timeout: timeout) ?? 0
    }

    /// Files with bytes not yet durable in S3.
    public var pendingUploads: Int { writeback?.staging.all.filter(\.isDirty).count ?? 0 }
}

/// What the mount found in the journal.
public struct WriteRecovery: Sendable, Hashable {
    /// Files whose upload was queued again.
    public var resumed: Int
    /// Files a crash cut off while they were being written (never acknowledged by close or fsync): not uploaded.
    public var dropped: Int
    /// Multipart uploads left behind by a crash, aborted.
    public var abortedUploads: Int
}
