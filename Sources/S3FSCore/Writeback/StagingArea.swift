// StagingArea: the mount's staging directory — one data file per staged file, the journal, and a lock.
//
// Layout: DIR/lock (flock'd for the life of the mount: two mounts never share one staging directory),
// DIR/journal, DIR/data/<id>. Staged files are found by key (a file being written, or owed to S3) so that lookups,
// listings and reads see them before S3 does. Ids only grow, across mounts too (the next id is above every id
// the journal or the data directory holds).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

final class StagingArea: Sendable {
    private struct Registry {
        var byKey: [[UInt8]: StagedFile] = [:]
        var nextID: UInt64 = 1
    }

    let directory: String
    let journal: Journal
    private let lockFD: Int32
    private let registry = Mutex(Registry())

    init(directory: String) throws(FSError) {
        self.directory = directory
        for path in [directory, directory + "/data"] where !FileIO.makeDirectories(path) {
            throw FSError(errno: errno, "cannot create the staging directory \(path): \(unsafe String(cString: strerror(errno)))")
        }
        lockFD = unsafe open(directory + "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lockFD >= 0, flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
            throw FSError(
                errno: EBUSY,
                "the staging directory \(directory) is in use by another s3mount of the same bucket; give this mount its own --cache-dir")
        }
        do {
            journal = try Journal(path: directory + "/journal")
        } catch {
            throw FSError(errno: error.errno, error.description)
        }
        let highest = max(journal.current.pending.keys.max() ?? 0, Self.dataFileIDs(in: directory + "/data").max() ?? 0)
        registry.withLock { $0.nextID = highest + 1 }
    }

    deinit {
        close(lockFD)
    }

    func dataPath(_ id: UInt64) -> String { "\(directory)/data/\(id)" }

    // MARK: - Files by key

    func file(forKey key: String) -> StagedFile? {
        registry.withLock { $0.byKey[Array(key.utf8)] }
    }

    /// Staged files whose key starts with `prefix`.
    func files(under prefix: String) -> [StagedFile] {
        let bytes = Array(prefix.utf8)
        return registry.withLock { registry in
            registry.byKey.filter { $0.key.starts(with: bytes) }.map(\.value)
        }
    }

    var all: [StagedFile] { registry.withLock { Array($0.byKey.values) } }

    /// A new, empty staging file for `key` (or one holding the bytes of `existing`).
    func create(key: String, inode: InodeNumber?, base: StagedFile.Base, now: Double, dirty: Bool) throws(FSError) -> StagedFile {
        let id = registry.withLock { registry in
            defer { registry.nextID += 1 }
            return registry.nextID
        }
        let path = dataPath(id)
        let fd = unsafe open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StagedFile.localError("create", key: key) }
        let generation: UInt64 = dirty ? 1 : 0
        let file = StagedFile(
            id: id, path: path, fd: fd,
            state: StagedFile.State(
                key: key, inode: inode, size: 0, mtime: now, base: base, generation: generation,
                journalledGeneration: 0, uploadedGeneration: 0, appendOnly: true))
        register(file, key: key)
        return file
    }

    /// Adopts a staging file found at recovery.
    func adopt(_ pending: JournalState.Pending) -> StagedFile? {
        let path = dataPath(pending.id)
        // A record carrying the bytes may find its staging file missing or short (it was never fsync'd); the
        // journal's bytes are the truth then. Any other record's staging file was fsync'd before the record.
        let fd = unsafe open(path, O_RDWR | O_CLOEXEC | (pending.inline == nil ? 0 : O_CREAT), 0o600)
        guard fd >= 0 else { return nil }
        if let inline = pending.inline {
            guard ftruncate(fd, 0) == 0, FileIO.pwriteAll(fd, inline, at: 0), fsync(fd) == 0 else {
                close(fd)
                return nil
            }
        }
        var info = stat()
        unsafe fstat(fd, &info)
        let file = StagedFile(
            id: pending.id, path: path, fd: fd,
            state: StagedFile.State(
                key: pending.key, inode: nil, size: UInt64(info.st_size), mtime: pending.mtime,
                base: StagedFile.Base(journalValue: pending.base), generation: pending.generation,
                journalledGeneration: pending.generation, uploadedGeneration: 0, appendOnly: false))
        register(file, key: pending.key)
        return file
    }

    private func register(_ file: StagedFile, key: String) {
        let replaced = registry.withLock { $0.byKey.updateValue(file, forKey: Array(key.utf8)) }
        if let replaced, replaced !== file { replaced.state.withLock { $0.removed = true } }
    }

    /// Moves `file` to `key` in the registry; a staged file already there is marked removed and returned.
    func rekey(_ file: StagedFile, to key: String) -> StagedFile? {
        registry.withLock { registry in
            let old = Array(file.key.utf8)
            if registry.byKey[old] === file { registry.byKey[old] = nil }
            file.state.withLock { $0.key = key }
            let replaced = registry.byKey.updateValue(file, forKey: Array(key.utf8))
            replaced?.state.withLock { $0.removed = true }
            return replaced === file ? nil : replaced
        }
    }

    /// Forgets `file` and deletes its staging file (open descriptors keep reading it until they close).
    func remove(_ file: StagedFile) {
        registry.withLock { registry in
            let key = Array(file.key.utf8)
            if registry.byKey[key] === file { registry.byKey[key] = nil }
        }
        unsafe unlink(file.path)
    }

    /// Data files no journal record owes to S3 (left by a crash before a close acknowledged them).
    func orphanDataFiles(keeping ids: Set<UInt64>) -> [UInt64] {
        Self.dataFileIDs(in: directory + "/data").filter { !ids.contains($0) }
    }

    func deleteDataFile(_ id: UInt64) { unsafe unlink(dataPath(id)) }

    // MARK: - Helpers

    private static func dataFileIDs(in directory: String) -> [UInt64] {
        FileIO.names(in: directory).compactMap { UInt64($0) }
    }
}
