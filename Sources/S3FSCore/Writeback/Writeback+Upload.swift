// One upload of a staged file: a PutObject for a small file, a multipart upload (parts in parallel, read straight
// from the staging file) for a large one or one already streaming, then the conflict rule, then the journal
// record that makes the staging file deletable.
//
// Conflicts: a new file is put with If-None-Match: *, and a multipart upload is completed only after a HEAD finds
// no object; an edit of version V checks by HEAD that V is still there. If another writer got there first, the
// local bytes are uploaded as `NAME.s3mount-conflict-<UTC time>` next to it and a warning names both keys; the
// other writer's object is left as it is. Nothing staged is ever dropped for a conflict.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import ObjectStore

extension Writeback {
    struct Snapshot {
        let key: String
        let size: UInt64
        let generation: UInt64
        let base: StagedFile.Base
    }

    /// Uploads the file's current bytes once; on success its generation is recorded as durable in S3.
    func upload(_ file: StagedFile) async throws(FSError) {
        let snapshot = file.state.withLock { Snapshot(key: $0.key, size: $0.size, generation: $0.generation, base: $0.base) }
        let streaming = file.state.withLock { $0.stream.map { $0.key == snapshot.key } ?? false }
        if !streaming { endStream(of: file) }
        // Set once the PutObject is sent (uploadWhole); held until what it put is accounted for below.
        defer { file.state.withLock { $0.putInFlight = false } }
        let uploadedTo: String
        do throws(ObjectStoreError) {
            if streaming || snapshot.size > config.partSize {
                uploadedTo = try await uploadMultipart(file, snapshot)
            } else {
                uploadedTo = try await uploadWhole(file, snapshot, to: snapshot.key, base: snapshot.base)
            }
        } catch {
            throw FSError(error, operation: "upload", key: snapshot.key)
        }
        let (currentKey, removed) = file.state.withLock { ($0.key, $0.removed) }
        if uploadedTo == snapshot.key, removed || currentKey != snapshot.key {
            // The file was renamed or unlinked while it uploaded: what just landed is a stale copy.
            try? await store.delete(key: uploadedTo)
            return
        }
        try await journal(JournalRecord(kind: .uploaded, id: file.id, generation: snapshot.generation))
        let done = file.state.withLock { state in
            state.uploadedGeneration = max(state.uploadedGeneration, snapshot.generation)
            state.copySource = nil
            if uploadedTo == snapshot.key { state.base = .replace }
            return state.writers == 0 && state.generation == state.uploadedGeneration
        }
        logger.debug("uploaded", metadata: ["s3.key": "\(uploadedTo)", "size": "\(snapshot.size)"])
        uploaded(file)
        if done {
            staging.remove(file)
            compactIfIdle()
        }
    }

    // MARK: - PutObject

    /// PutObject of the whole file to `key`; on a conflict the bytes go to a conflict key. Returns where they went.
    private func uploadWhole(_ file: StagedFile, _ snapshot: Snapshot, to key: String, base: StagedFile.Base)
        async throws(ObjectStoreError) -> String
    {
        let body = UploadBody.file(path: file.path, offset: 0, length: snapshot.size)
        var condition = WriteCondition.unconditional
        switch base {
        case .new: condition = .ifNoneMatch
        case .version(let etag): if try await changed(key, from: etag) { return try await uploadConflict(file, snapshot) }
        case .replace: break
        }
        let chosen = condition
        do throws(ObjectStoreError) {
            _ = try await throttled(snapshot.size) { () async throws(ObjectStoreError) in
                file.state.withLock { $0.putInFlight = true }
                return try await self.store.put(key: key, body: body, condition: chosen)
            }
        } catch {
            guard case .service(let service) = error, service.kind == .preconditionFailed else { throw error }
            return try await uploadConflict(file, snapshot)
        }
        return key
    }

    /// Whether `key` in S3 is no longer version `etag` (a deleted object is not a conflict: the edit recreates it).
    private func changed(_ key: String, from etag: ETag) async throws(ObjectStoreError) -> Bool {
        do {
            return try await store.head(key: key).etag != etag
        } catch {
            if case .service(let service) = error, service.kind == .noSuchKey { return false }
            throw error
        }
    }

    private func exists(_ key: String) async throws(ObjectStoreError) -> Bool {
        do {
            _ = try await store.head(key: key)
            return true
        } catch {
            if case .service(let service) = error, service.kind == .noSuchKey { return false }
            throw error
        }
    }

    private func uploadConflict(_ file: StagedFile, _ snapshot: Snapshot) async throws(ObjectStoreError) -> String {
        let conflictKey = Self.conflictKey(for: snapshot.key, at: Date())
        logger.warning(
            "write conflict: the object changed in S3 while a local write was pending; the local version is uploaded beside it",
            metadata: ["s3.key": "\(snapshot.key)", "conflict_key": "\(conflictKey)"])
        endStream(of: file)
        // The version the bytes were fetched from was replaced: nothing may be copied from it any more.
        file.state.withLock { $0.copySource = nil }
        if snapshot.size > config.partSize {
            let moved = Snapshot(key: conflictKey, size: snapshot.size, generation: snapshot.generation, base: .replace)
            return try await uploadMultipartFresh(file, moved)
        }
        return try await uploadWhole(file, snapshot, to: conflictKey, base: .replace)
    }

    static func conflictKey(for key: String, at date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return "\(key).s3mount-conflict-\(formatter.string(from: date))"
    }

    // MARK: - Multipart

    /// Finishes the file's stream (or starts one) and completes it. Returns the key the object went to.
    private func uploadMultipart(_ file: StagedFile, _ snapshot: Snapshot) async throws(ObjectStoreError) -> String {
        for task in file.state.withLock({ $0.stream.map { Array($0.running.values) } ?? [] }) { await task.value }
        if case .version(let etag) = snapshot.base, try await changed(snapshot.key, from: etag) {
            return try await uploadConflict(file, snapshot)
        }
        if snapshot.base == .new, try await exists(snapshot.key) { return try await uploadConflict(file, snapshot) }
        do throws(ObjectStoreError) {
            return try await completeStream(file, snapshot)
        } catch {
            guard case .service(let service) = error, service.kind == .noSuchUpload else { throw error }
            // The upload was aborted or expired under us: start again from the staged bytes.
            endStream(of: file)
            return try await completeStream(file, snapshot)
        }
    }

    /// A fresh multipart upload of the whole file to `snapshot.key` (conflict copies).
    private func uploadMultipartFresh(_ file: StagedFile, _ snapshot: Snapshot) async throws(ObjectStoreError) -> String {
        endStream(of: file)
        return try await completeStream(file, snapshot)
    }

    private func completeStream(_ file: StagedFile, _ snapshot: Snapshot) async throws(ObjectStoreError) -> String {
        let upload = try await streamUpload(file, key: snapshot.key)
        // A stream resumed from the journal keeps the part layout it was started with, whatever --part-size is now.
        let layout = file.state.withLock { $0.stream?.layout } ?? self.layout
        let count = layout.partCount(fileSize: snapshot.size)
        let have = file.state.withLock { $0.stream?.parts ?? [:] }
        let missing = (1...count).filter { have[$0] == nil }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for number in missing {
                    group.addTask { [self] in
                        try await uploadPart(
                            file, upload: upload, key: snapshot.key, number: number, layout: layout, fileSize: snapshot.size)
                    }
                }
                try await group.waitForAll()
            }
        } catch let error as ObjectStoreError {
            throw error
        } catch {
            throw .client(ClientError(kind: .other, detail: "\(error)"))
        }
        let parts = file.state.withLock { state in (1...count).compactMap { n in state.stream?.parts[n].map { CompletedPart(number: n, etag: $0) } } }
        guard parts.count == count else {
            throw .client(ClientError(kind: .other, detail: "multipart upload of \(snapshot.key): parts missing"))
        }
        _ = try await store.completeMultipartUpload(key: snapshot.key, upload: upload, parts: parts)
        file.state.withLock { state in
            state.stream = nil
            state.copySource = nil  // that version is replaced: later uploads send their bytes
        }
        try? await journal(JournalRecord(kind: .multipartEnded, id: file.id))
        return snapshot.key
    }

    /// The file's multipart upload id, creating the upload (journalled before and after) when there is none.
    func streamUpload(_ file: StagedFile, key: String) async throws(ObjectStoreError) -> MultipartUploadID {
        let creation: Task<MultipartUploadID?, Never> = file.state.withLock { state in
            if state.stream == nil || state.stream?.key != key { state.stream = MultipartStream(key: key, layout: layout) }
            if let upload = state.stream?.upload { return Task { upload } }
            if let running = state.stream?.creation { return running }
            let task = Task<MultipartUploadID?, Never> { [self] in await createUpload(file, key: key) }
            state.stream?.creation = task
            return task
        }
        guard let upload = await creation.value else {
            file.state.withLock { $0.stream?.creation = nil }
            throw .client(ClientError(kind: .other, detail: "CreateMultipartUpload of \(key) failed"))
        }
        return upload
    }

    private func createUpload(_ file: StagedFile, key: String) async -> MultipartUploadID? {
        do {
            try await journal(JournalRecord(kind: .multipartIntent, id: file.id, key: key, base: file.state.withLock { $0.base.journalValue }))
            let upload = try await store.createMultipartUpload(key: key)
            let partSize = file.state.withLock { $0.stream?.layout.base } ?? layout.base
            try await journal(JournalRecord(kind: .multipart, id: file.id, uploadID: upload.value, partSize: partSize))
            file.state.withLock { state in
                if state.stream?.key == key { state.stream?.upload = upload }
            }
            return upload
        } catch {
            logger.warning("CreateMultipartUpload failed", metadata: ["s3.key": "\(key)", "error": "\(error)"])
            return nil
        }
    }

    /// Uploads part `number` from the staging file and journals it.
    func uploadPart(
        _ file: StagedFile, upload: MultipartUploadID, key: String, number: Int, layout: PartLayout, fileSize: UInt64
    ) async throws(ObjectStoreError) {
        guard let range = layout.range(of: number, fileSize: fileSize) else { return }
        let etag: ETag
        if let source = file.state.withLock({ $0.copySource }), source.layout == layout,
            source.isUnchanged(number, fileSize: fileSize)
        {
            // Unchanged since it was fetched: the server copies it from the object; no byte is sent.
            etag = try await throttled(0) { () async throws(ObjectStoreError) in
                try await self.store.uploadPartCopy(
                    key: key, upload: upload, number: number, source: source.key, range: ByteRange(range),
                    sourceETag: source.etag)
            }
        } else {
            let body = UploadBody.file(path: file.path, offset: range.lowerBound, length: UInt64(range.count))
            etag = try await throttled(UInt64(range.count)) { () async throws(ObjectStoreError) in
                try await self.store.uploadPart(key: key, upload: upload, number: number, body: body)
            }
        }
        do {
            try await journal(JournalRecord(kind: .part, id: file.id, part: number, etag: etag.value))
        } catch {
            throw .client(ClientError(kind: .other, detail: error.message))
        }
        file.state.withLock { state in
            if state.stream?.upload == upload { state.stream?.parts[number] = etag }
        }
    }

    /// Runs `request` in an upload slot (below reads) once the bandwidth limit lets `bytes` go. The slot comes
    /// first: tokens taken while waiting behind reads would let every waiting part leave at once afterwards.
    func throttled<T: Sendable>(_ bytes: UInt64, _ request: @Sendable () async throws(ObjectStoreError) -> T)
        async throws(ObjectStoreError) -> T
    {
        let cancelled = ObjectStoreError.client(ClientError(kind: .other, detail: "upload cancelled"))
        let ticket = scheduler.makeTicket()
        guard await scheduler.acquire(ticket, priority: .upload) else { throw cancelled }
        defer { scheduler.release(ticket) }
        if let bandwidth {
            do { try await bandwidth.take(bytes) } catch { throw cancelled }
        }
        let answer = try await request()
        uploadedBytes.increment(by: Int64(bytes))
        return answer
    }

    /// Ends the file's multipart stream: running parts are cancelled and the upload is aborted in the background.
    func endStream(of file: StagedFile) {
        guard let stream = file.state.withLock({ state -> MultipartStream? in
            defer { state.stream = nil }
            return state.stream
        }) else { return }
        for task in stream.running.values { task.cancel() }
        let store = self.store
        Task {
            try? await journal(JournalRecord(kind: .multipartEnded, id: file.id))
            let upload: MultipartUploadID? = if let known = stream.upload { known } else { await stream.creation?.value }
            guard let upload else { return }
            try? await store.abortMultipartUpload(key: stream.key, upload: upload)
        }
    }
}
