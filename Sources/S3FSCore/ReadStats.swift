// ReadStats: how reads were served — from memory at once, or after waiting for S3 — and how long they waited
// (the stall a reading process sees), with what dataset, manifest and record read-ahead fetched and what of it
// was used. Counters only, read by the --stats-file writer.
import Synchronization

public final class ReadStats: Sendable {
    public struct Snapshot: Sendable, Equatable {
        public var readsFromMemory: UInt64
        public var readsThatWaited: UInt64
        public var stallSeconds: Double
        public var maxStallSeconds: Double
        public var datasetPrefetchedBytes: UInt64
        public var datasetUsedBytes: UInt64
        public var datasetPrefetchedFiles: UInt64
        public var datasetUsedFiles: UInt64
        public var recordsPrefetched: UInt64
        public var recordBytesPrefetched: UInt64
        /// Reads answered from a record read ahead for their handle.
        public var readsFromPrefetchedRecords: UInt64
        public var manifestEntries: UInt64
        public var manifestPrefetchedFiles: UInt64
        public var manifestPrefetchedBytes: UInt64
        public var manifestUsedFiles: UInt64
        public var manifestUsedBytes: UInt64
        public var manifestMissing: UInt64
    }

    private let fromMemory = Atomic<UInt64>(0)
    private let waited = Atomic<UInt64>(0)
    private let stallNanoseconds = Atomic<UInt64>(0)
    private let maxStallNanoseconds = Atomic<UInt64>(0)
    private let recordsPrefetched = Atomic<UInt64>(0)
    private let recordBytesPrefetched = Atomic<UInt64>(0)
    private let readsFromRecords = Atomic<UInt64>(0)

    func answeredFromMemory() {
        fromMemory.add(1, ordering: .relaxed)
    }

    func waited(for duration: Duration) {
        let nanoseconds = UInt64(max(0, duration / .nanoseconds(1)))
        waited.add(1, ordering: .relaxed)
        stallNanoseconds.add(nanoseconds, ordering: .relaxed)
        _ = maxStallNanoseconds.max(nanoseconds, ordering: .relaxed)
    }

    func prefetchedRecord(bytes: Int) {
        recordsPrefetched.add(1, ordering: .relaxed)
        recordBytesPrefetched.add(UInt64(bytes), ordering: .relaxed)
    }

    func answeredFromPrefetchedRecord() {
        readsFromRecords.add(1, ordering: .relaxed)
    }

    func snapshot(dataset: DatasetReadAhead.Counters, manifest: ManifestReadAhead.Counters) -> Snapshot {
        Snapshot(
            readsFromMemory: fromMemory.load(ordering: .relaxed), readsThatWaited: waited.load(ordering: .relaxed),
            stallSeconds: Double(stallNanoseconds.load(ordering: .relaxed)) / 1e9,
            maxStallSeconds: Double(maxStallNanoseconds.load(ordering: .relaxed)) / 1e9,
            datasetPrefetchedBytes: dataset.prefetchedBytes, datasetUsedBytes: dataset.usedBytes,
            datasetPrefetchedFiles: dataset.prefetchedFiles, datasetUsedFiles: dataset.usedFiles,
            recordsPrefetched: recordsPrefetched.load(ordering: .relaxed),
            recordBytesPrefetched: recordBytesPrefetched.load(ordering: .relaxed),
            readsFromPrefetchedRecords: readsFromRecords.load(ordering: .relaxed),
            manifestEntries: manifest.entries, manifestPrefetchedFiles: manifest.prefetchedFiles,
            manifestPrefetchedBytes: manifest.prefetchedBytes, manifestUsedFiles: manifest.usedFiles,
            manifestUsedBytes: manifest.usedBytes, manifestMissing: manifest.missing)
    }
}
