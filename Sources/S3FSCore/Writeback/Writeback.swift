// Writeback: staged files reach S3 in the background, throttled, below reads, and never lost.
//
// - Durability: close (flush) makes a staged file's bytes durable on local disk and journals that they are owed
//   to S3 (`makeDurable`); from then on a crash cannot lose them: the next mount replays the journal and uploads
//   them before it goes live (Writeback+Recovery). The staging file is deleted only after the object is durable
//   in S3.
// - Scheduling: one worker task per dirty file uploads it once no handle may write it any more (or at once when
//   fsync asks), and again if it changed meanwhile. A failed upload stays staged, is logged with its key, and is
//   retried with exponential backoff for as long as the mount lives (and by the next mount).
// - Priority and bounds: every upload request (PUT or part) takes an upload slot of the mount's FetchScheduler,
//   which only gives one while no demand read waits and within --upload-concurrency, and takes its size from the
//   --upload-bandwidth token bucket before it starts.
// - Unmount drains the queue for up to --drain-timeout, then leaves the rest journalled and says so.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CoreMetrics
import Logging
import ObjectStore
import Synchronization

final class Writeback: Sendable {
    /// An fsync waiting for generation `generation` of a file to be durable in S3.
    struct Waiter {
        let generation: UInt64
        let continuation: CheckedContinuation<FSError?, Never>
    }

    struct QueueState {
        var workers: [UInt64: Task<Void, Never>] = [:]
        var waiters: [UInt64: [Waiter]] = [:]
        var idle: [CheckedContinuation<Void, Never>] = []
    }

    let store: any ObjectStore
    let config: WriteConfig
    let logger: Logger
    let staging: StagingArea
    let scheduler: FetchScheduler
    let bandwidth: TokenBucket?
    /// Bytes sent to S3 by finished upload requests (PUTs and parts; a part copied server-side sends none): its
    /// rate is the upload rate (s3mount_upload_bytes_total).
    let uploadedBytes = Counter(label: "s3mount_upload_bytes_total")
    let layout: PartLayout
    /// Called after a file's bytes became durable in S3 (the inode's cached metadata is stale then).
    let uploaded: @Sendable (StagedFile) -> Void
    let queue = Mutex(QueueState())

    init(
        store: any ObjectStore, config: WriteConfig, scheduler: FetchScheduler, logger: Logger,
        uploaded: @escaping @Sendable (StagedFile) -> Void
    ) throws(FSError) {
        self.store = store
        self.config = config
        self.logger = logger
        self.scheduler = scheduler
        self.uploaded = uploaded
        layout = PartLayout(base: config.partSize)
        bandwidth = config.uploadBandwidth.map { TokenBucket(bytesPerSecond: $0, capacity: max(config.partSize, $0 / 4)) }
        staging = try StagingArea(directory: config.stagingDirectory)
    }

    // MARK: - Local durability

    /// Files up to this size are journalled with their bytes.
    static let inlineLimit: UInt64 = 256 << 10

    /// fsyncs the staging file and journals that its bytes are owed to S3 (a no-op when nothing changed since);
    /// the disk work runs off the cooperative pool (BlockingIO).
    func makeDurable(_ file: StagedFile) async throws(FSError) {
        let (generation, journalled, uploaded, removed) = file.state.withLock {
            ($0.generation, $0.journalledGeneration, $0.uploadedGeneration, $0.removed)
        }
        guard !removed, generation > journalled, generation > uploaded else { return }
        let staged = file.state.withLock { state in
            JournalRecord(
                kind: .staged, id: file.id, key: state.key, generation: generation, base: state.base.journalValue,
                mtime: state.mtime)
        }
        let inline = file.state.withLock { $0.size } <= Self.inlineLimit
        let journal = staging.journal
        try await BlockingIO.writeback.run { () throws(FSError) in
            var record = staged
            if inline {
                // One fdatasync (the journal's) instead of two: the record carries the bytes.
                record.inline = try file.read(at: 0, count: Int(Self.inlineLimit))
            } else {
                try file.syncToDisk()
                if journalled == 0 { Journal.syncDirectory(of: file.path) }
            }
            try Self.append(record, to: journal)
        }
        file.state.withLock { $0.journalledGeneration = max($0.journalledGeneration, generation) }
    }

    /// Appends `record` to the journal, durably, off the cooperative pool.
    func journal(_ record: JournalRecord) async throws(FSError) {
        let journal = staging.journal
        try await BlockingIO.writeback.run { () throws(FSError) in try Self.append(record, to: journal) }
    }

    static func append(_ record: JournalRecord, to journal: Journal) throws(FSError) {
        do {
            try journal.append(record)
        } catch {
            throw FSError(errno: error.errno == 0 ? EIO : error.errno, error.description, logLevel: .error)
        }
    }

    // MARK: - Scheduling

    /// A handle that could write `file` was closed: upload once the last one is gone.
    func writerClosed(_ file: StagedFile) {
        let (writers, removed) = file.state.withLock { state in
            state.writers -= 1
            return (state.writers, state.removed)
        }
        if writers == 0, !removed, file.isDirty { schedule(file) }
    }

    /// Waits until the bytes written so far are durable in S3 (fsync, sync mode's close).
    func uploadNow(_ file: StagedFile) async throws(FSError) {
        try await makeDurable(file)
        let generation = file.state.withLock { $0.generation }
        guard file.isDirty else { return }
        let failure: FSError? = await withCheckedContinuation { continuation in
            queue.withLock { $0.waiters[file.id, default: []].append(Waiter(generation: generation, continuation: continuation)) }
            schedule(file)
        }
        if let failure { throw failure }
    }

    /// Starts the file's upload worker unless it runs already.
    func schedule(_ file: StagedFile) {
        queue.withLock { queue in
            guard queue.workers[file.id] == nil else { return }
            queue.workers[file.id] = Task { [self] in await work(on: file) }
        }
    }

    /// Uploads `file` while it is dirty and may be uploaded; retries failures with backoff.
    private func work(on file: StagedFile) async {
        var failures = 0
        while shouldUpload(file) {
            let generation = file.state.withLock { $0.generation }
            do throws(FSError) {
                try await upload(file)
                if failures > 0 { logger.notice("upload succeeded after retries", metadata: ["s3.key": "\(file.key)", "attempts": "\(failures + 1)"]) }
                failures = 0
                finishWaiters(file, upTo: file.state.withLock { $0.uploadedGeneration }, failure: nil)
            } catch {
                failures += 1
                let delay = min(60, 0.5 * Double(1 << min(failures - 1, 7)))
                if failures == 1 || failures % 10 == 0 {
                    logger.error(
                        "upload failed; the file stays staged and is retried",
                        metadata: ["s3.key": "\(file.key)", "error": "\(error.message)", "attempt": "\(failures)",
                                   "retry_in_s": "\(delay)", "staged": "\(file.path)"])
                }
                finishWaiters(file, upTo: generation, failure: error)
                do { try await Task.sleep(for: .milliseconds(Int64(delay * 1000))) } catch { break }
            }
        }
        let idle: [CheckedContinuation<Void, Never>] = queue.withLock { queue in
            queue.workers[file.id] = nil
            guard queue.workers.isEmpty else { return [] }
            defer { queue.idle = [] }
            return queue.idle
        }
        for continuation in idle { continuation.resume() }
        // A write or an fsync may have come in after the last check and before the worker left.
        if shouldUpload(file) { schedule(file) }
    }

    private func shouldUpload(_ file: StagedFile) -> Bool {
        let (dirty, writers) = file.state.withLock { ($0.generation > $0.uploadedGeneration && !$0.removed, $0.writers) }
        guard dirty else {
            finishWaiters(file, upTo: .max, failure: nil)
            return false
        }
        return writers == 0 || queue.withLock { !($0.waiters[file.id] ?? []).isEmpty }
    }

    private func finishWaiters(_ file: StagedFile, upTo generation: UInt64, failure: FSError?) {
        let done: [Waiter] = queue.withLock { queue in
            let all = queue.waiters[file.id] ?? []
            queue.waiters[file.id] = all.filter { $0.generation > generation }
            if queue.waiters[file.id]?.isEmpty == true { queue.waiters[file.id] = nil }
            return all.filter { $0.generation <= generation }
        }
        for waiter in done { waiter.continuation.resume(returning: failure) }
    }

    // MARK: - Removal

    /// The file was unlinked or replaced: nothing is owed, its name is gone at once, and its staging file is
    /// unlinked (handles still open keep reading and writing it until they close; nothing is uploaded). Returns
    /// once that is journalled, so a crash cannot bring the file back.
    func remove(_ file: StagedFile) async {
        file.state.withLock { $0.removed = true }
        await settlePut(file)
        queue.withLock { $0.workers[file.id]?.cancel() }
        finishWaiters(file, upTo: .max, failure: nil)
        endStream(of: file)
        staging.remove(file)
        try? await journal(JournalRecord(kind: .discarded, id: file.id))
        compactIfIdle()
    }

    /// Returns once no PutObject of the file is in flight. Cancelling one would not stop it landing (the server may
    /// have the whole request already and commit it after a later DELETE), so whoever deletes the file's key waits
    /// for its answer first; what a PUT of an unlinked or renamed file put is deleted by the upload itself. Bounded
    /// by the request's own timeouts (connect, stall) and the retries of one attempt; a multipart upload is not
    /// waited for (its object appears only when it completes, and cancelling stops that).
    func settlePut(_ file: StagedFile) async {
        while file.state.withLock({ $0.putInFlight }) {
            do { try await Task.sleep(for: .milliseconds(5)) } catch { return }
        }
    }

    /// With nothing owed any more, a journal grown past 1 MiB starts over empty.
    func compactIfIdle() {
        guard staging.journal.current.pending.isEmpty, staging.journal.size > 1 << 20 else { return }
        let journal = staging.journal
        Task { await BlockingIO.writeback.run { try? journal.compact() } }
    }

    // MARK: - Unmount

    /// Uploads everything owed, for at most `timeout` seconds; the number of files still owed afterwards.
    func drain(timeout: Double) async -> Int {
        for file in staging.all where file.isDirty { schedule(file) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                await withCheckedContinuation { continuation in
                    let isIdle = queue.withLock { queue in
                        if queue.workers.isEmpty { return true }
                        queue.idle.append(continuation)
                        return false
                    }
                    if isIdle { continuation.resume() }
                }
            }
            group.addTask { try? await Task.sleep(for: .milliseconds(Int64(timeout * 1000))) }
            await group.next()
            group.cancelAll()
            // The idle wait cannot be cancelled: resume it so the group can end.
            let idle = queue.withLock { queue in
                defer { queue.idle = [] }
                return queue.idle
            }
            for continuation in idle { continuation.resume() }
        }
        return staging.all.filter(\.isDirty).count
    }
}
