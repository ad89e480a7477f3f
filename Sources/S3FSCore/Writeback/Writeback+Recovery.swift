// Recovery at mount, before the mount goes live: every file the journal says is owed to S3 is staged again (so
// lookups, listings and reads see it at once) and its upload is queued, resuming a multipart upload from the
// parts already in S3. Files whose bytes were never acknowledged by a close or fsync (a crash while they were
// being written) are dropped, and every multipart upload s3mount started for a key it journalled and is not
// resuming is aborted, so none is left behind in the bucket.
import Logging
import ObjectStore

extension Writeback {
    struct RecoveryReport: Sendable {
        var resumed = 0
        var dropped = 0
        var abortedUploads = 0
    }

    /// Restores what the journal owes; the caller registers the files with the file system and then `resume`s.
    func recover() async -> RecoveryReport {
        // The disk work (reopening staging files, writing back journalled bytes, compaction) runs off the
        // cooperative pool, as every fsync does.
        let (restaged, keys, resumedUploads) = await BlockingIO.writeback.run { self.restage() }
        var report = restaged
        report.abortedUploads = await abortLeftovers(keys: keys, keeping: resumedUploads)
        let journal = staging.journal
        await BlockingIO.writeback.run { try? journal.compact() }
        return report
    }

    /// Stages every acknowledged file again; the keys whose multipart uploads must be looked at, and the uploads
    /// being resumed.
    private func restage() -> (RecoveryReport, Set<String>, Set<String>) {
        var report = RecoveryReport()
        let state = staging.journal.current
        var keep: Set<UInt64> = []
        var resumedUploads: Set<String> = []
        var keys = state.multipartKeys
        for pending in state.pending.values.sorted(by: { $0.id < $1.id }) {
            keys.insert(pending.key)
            guard pending.acknowledged, let file = staging.adopt(pending) else {
                try? Self.append(JournalRecord(kind: .discarded, id: pending.id), to: staging.journal)
                report.dropped += 1
                continue
            }
            keep.insert(pending.id)
            if let uploadID = pending.uploadID {
                let parts = pending.parts.mapValues { ETag($0) }
                let stream = MultipartStream(
                    key: pending.key, layout: PartLayout(base: pending.partSize ?? layout.base),
                    upload: MultipartUploadID(uploadID), parts: parts)
                file.state.withLock { $0.stream = stream }
                resumedUploads.insert(uploadID)
            }
            report.resumed += 1
        }
        for orphan in staging.orphanDataFiles(keeping: keep) { staging.deleteDataFile(orphan) }
        return (report, keys, resumedUploads)
    }

    /// Queues the upload of every recovered file.
    func resume() {
        for file in staging.all where file.isDirty { schedule(file) }
    }

    private func abortLeftovers(keys: Set<String>, keeping: Set<String>) async -> Int {
        var aborted = 0
        for key in keys.sorted() {
            guard let uploads = try? await store.listMultipartUploads(prefix: key) else { continue }
            for upload in uploads where upload.key == key && !keeping.contains(upload.uploadID.value) {
                if (try? await store.abortMultipartUpload(key: key, upload: upload.uploadID)) != nil { aborted += 1 }
            }
        }
        return aborted
    }
}
