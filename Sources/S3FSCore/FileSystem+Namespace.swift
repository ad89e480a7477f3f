// Namespace changes: mkdir, rmdir, unlink, rename. Each is done in S3 before it returns (they are not queued):
// a directory is a marker object "dir/"; unlink is DeleteObject; renaming a file is CopyObject (a multipart copy
// above 5 GiB) then DeleteObject, or for a file with a staged copy a move of that copy to the new key (journalled,
// so the upload goes to the new key even after a crash); renaming a directory copies and deletes each of its keys,
// up to `maxRenameKeys`.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ObjectStore

extension FileSystem {
    /// Directories with more keys than this are not renamed (EXDEV: mv then copies and deletes file by file).
    public static let maxRenameKeys = 1_000
    /// renameat2 flags.
    public static let renameNoReplace: UInt32 = 1
    public static let renameExchange: UInt32 = 2

    public func mkdir(parent: InodeNumber, name: String) async throws(FSError) -> EntryReply {
        _ = try writable("mkdir \(name)")
        let directory = try directoryInode(parent)
        let key = try childKey(directory, name, suffix: "/")
        do {
            _ = try await store.put(key: key, body: .bytes([]), condition: .unconditional)
        } catch {
            throw FSError(error, operation: "mkdir", key: key)
        }
        let entry = ResolvedEntry.directory(name: name, prefix: key, mtime: mountTime)
        return entryReply(inodes.upsert(parent: parent, entry: entry, ttl: config.metadataTTL, countLookup: true))
    }

    public func unlink(parent: InodeNumber, name: String) async throws(FSError) {
        let writeback = try writable("unlink \(name)")
        let directory = try directoryInode(parent)
        let key = directory.key + name
        if let file = writeback.staging.file(forKey: key) {
            let onlyLocal = file.state.withLock { $0.base == .new && $0.uploadedGeneration == 0 && !$0.putInFlight }
            await writeback.remove(file)
            if onlyLocal {
                inodes.removeChild(of: parent, named: name)
                return
            }
        }
        try await delete(key)
        inodes.removeChild(of: parent, named: name)
    }

    public func rmdir(parent: InodeNumber, name: String) async throws(FSError) {
        let writeback = try writable("rmdir \(name)")
        let directory = try directoryInode(parent)
        let prefix = directory.key + name + "/"
        guard writeback.staging.files(under: prefix).isEmpty, try await isEmptyDirectory(prefix) else {
            throw FSError(errno: ENOTEMPTY, "rmdir \(prefix): not empty", logLevel: .debug)
        }
        try await delete(prefix)
        inodes.removeChild(of: parent, named: name)
    }

    public func rename(
        parent: InodeNumber, name: String, newParent: InodeNumber, newName: String, flags: UInt32
    ) async throws(FSError) {
        let writeback = try writable("rename \(name)")
        guard flags & Self.renameExchange == 0 else {
            throw FSError(errno: EINVAL, "rename \(name): RENAME_EXCHANGE is not supported", logLevel: .debug)
        }
        // The kernel looked both names up before asking, so the table holds whatever exists.
        guard let source = inodes.child(of: parent, named: name, countLookup: false) else { throw .notFound("rename \(name)") }
        let targetDirectory = try directoryInode(newParent)
        let target = inodes.child(of: newParent, named: newName, countLookup: false)
        if target != nil, flags & Self.renameNoReplace != 0 {
            throw FSError(errno: EEXIST, "rename to \(newName): exists", logLevel: .debug)
        }
        let newKey: String
        if source.kind == .directory {
            newKey = try childKey(targetDirectory, newName, suffix: "/")
            try await renameDirectory(source, to: newKey, replacing: target, writeback)
        } else {
            if target?.kind == .directory { throw FSError(errno: EISDIR, "rename onto directory \(newName)", logLevel: .debug) }
            newKey = try childKey(targetDirectory, newName)
            try await renameFile(source, to: newKey, writeback)
        }
        inodes.move(source.number, to: newParent, name: newName, key: newKey)
    }

    // MARK: - Files

    private func renameFile(_ source: Inode, to key: String, _ writeback: Writeback) async throws(FSError) {
        if let replaced = writeback.staging.file(forKey: key) { await writeback.remove(replaced) }
        // A PUT of the file in flight is waited for: it may land whatever happens to it, so the delete of the old
        // key must come after it. Once it is done the file may not be staged any more (it was its last upload).
        if let file = writeback.staging.file(forKey: source.key) { await writeback.settlePut(file) }
        if let file = writeback.staging.file(forKey: source.key) {
            // The old key is deleted even when nothing is known to be there: a PUT that starts before the move
            // takes effect deletes what it put itself (Writeback.upload), but one that answered just before may not
            // be accounted for yet.
            try await move(file, to: key, writeback)
            try await delete(source.key)
        } else {
            try await copyObject(source, to: key)
            try await delete(source.key)
        }
    }

    /// Moves a staged copy to `key`: journalled (data fsync'd) before the old object goes, uploaded to the new key
    /// as a replacement of whatever is there.
    private func move(_ file: StagedFile, to key: String, _ writeback: Writeback) async throws(FSError) {
        writeback.endStream(of: file)
        _ = writeback.staging.rekey(file, to: key)
        file.state.withLock { state in
            state.copySource = nil  // the old key is deleted below
            state.base = .replace
            state.generation += 1
            state.uploadedGeneration = 0
        }
        try await writeback.makeDurable(file)
        if file.state.withLock({ $0.writers == 0 }) { writeback.schedule(file) }
    }

    /// CopyObject, or a multipart copy in parts of at most 5 GiB for larger objects.
    private func copyObject(_ source: Inode, to key: String) async throws(FSError) {
        let object = source.etag == nil || source.freshUntil <= .now ? try await refreshFile(source) : source
        do {
            guard object.size > UploadLimits.maxSingleRequestBytes else {
                _ = try await store.copy(from: object.key, to: key, sourceETag: object.etag)
                return
            }
            let upload = try await store.createMultipartUpload(key: key)
            let partSize: UInt64 = 1 << 30
            var parts: [CompletedPart] = []
            var offset: UInt64 = 0
            while offset < object.size {
                let range = ByteRange(offset..<min(object.size, offset + partSize))
                let etag = try await store.uploadPartCopy(
                    key: key, upload: upload, number: parts.count + 1, source: object.key, range: range,
                    sourceETag: object.etag)
                parts.append(CompletedPart(number: parts.count + 1, etag: etag))
                offset = range.upperBound
            }
            _ = try await store.completeMultipartUpload(key: key, upload: upload, parts: parts)
        } catch {
            throw FSError(error, operation: "rename (copy)", key: object.key)
        }
    }

    // MARK: - Directories

    private func renameDirectory(_ source: Inode, to newPrefix: String, replacing target: Inode?, _ writeback: Writeback)
        async throws(FSError)
    {
        if let target {
            guard target.kind == .directory else { throw FSError(errno: ENOTDIR, "rename onto file \(target.key)", logLevel: .debug) }
            guard try await isEmptyDirectory(target.key) else { throw FSError(errno: ENOTEMPTY, "rename onto \(target.key)", logLevel: .debug) }
        }
        let keys: ListPage
        do {
            keys = try await store.listAll(prefix: source.key, delimiter: nil, maxPages: Self.maxRenameKeys / 1000 + 1)
        } catch {
            throw FSError(error, operation: "rename (list)", key: source.key)
        }
        guard keys.objects.count <= Self.maxRenameKeys, keys.nextContinuationToken == nil else {
            throw FSError(errno: EXDEV, "rename \(source.key): more than \(Self.maxRenameKeys) keys", logLevel: .warning)
        }
        let movedKey = { (key: String) in newPrefix + String(decoding: key.utf8.dropFirst(source.key.utf8.count), as: UTF8.self) }
        for file in writeback.staging.files(under: source.key) { try await move(file, to: movedKey(file.key), writeback) }
        for object in keys.objects {
            let moved = movedKey(object.key)
            guard writeback.staging.file(forKey: moved) == nil else { continue }  // its staged copy moved already
            do {
                _ = try await store.copy(from: object.key, to: moved, sourceETag: object.etag)
            } catch {
                throw FSError(error, operation: "rename (copy)", key: object.key)
            }
        }
        if !keys.objects.contains(where: { $0.key == source.key }) {
            do { _ = try await store.put(key: newPrefix, body: .bytes([]), condition: .unconditional) } catch {
                throw FSError(error, operation: "rename (mkdir)", key: newPrefix)
            }
        }
        for object in keys.objects { try await delete(object.key) }
    }

    private func isEmptyDirectory(_ prefix: String) async throws(FSError) -> Bool {
        do {
            let page = try await store.list(ListRequest(prefix: prefix, delimiter: "/", maxKeys: 2))
            return page.commonPrefixes.isEmpty && page.objects.allSatisfy { $0.key == prefix }
        } catch {
            throw FSError(error, operation: "list", key: prefix)
        }
    }

    private func delete(_ key: String) async throws(FSError) {
        do {
            try await store.delete(key: key)
        } catch {
            throw FSError(error, operation: "delete", key: key)
        }
    }
}
