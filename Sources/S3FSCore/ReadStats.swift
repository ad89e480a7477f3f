// ReadStats: how reads were served — from memory at once, or after waiting (for S3, or for the staging disk of a
// file being written) — how many bytes each way, and how long they waited (the stall a reading process sees),
// with what dataset, manifest and record read-ahead fetched and what of it was used. Read by the --stats-file
// writer, the control socket (`s3mount status`) and, through swift-metrics, /metrics:
//   s3mount_read_stall_seconds (histogram; a read answered from memory records 0)
//   s3mount_read_bytes_total{source="memory"|"s3"|"staging"}
// Every read costs relaxed atomic adds plus the swift-metrics handles' own cost; no allocation.
import CoreMetrics
import Observability
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
        public var bytesFromMemory: UInt64
        public var bytesFromS3: UInt64
        public var bytesFromStaging: UInt64
        /// Reads per LatencyBuckets bucket of their stall.
        public var stallBuckets: [UInt64]
    }

    /// Where the bytes of one read came from.
    enum Source {
        case memory, s3, staging
    }

    private let fromMemory = Atomic<UInt64>(0)
    private let waited = Atomic<UInt64>(0)
    private let stallNanoseconds = Atomic<UInt64>(0)
    private let maxStallNanoseconds = Atomic<UInt64>(0)
    private let recordsPrefetched = Atomic<UInt64>(0)
    private let recordBytesPrefetched = Atomic<UInt64>(0)
    private let readsFromRecords = Atomic<UInt64>(0)
    private let stalls = StallHistogram()
    private let stallTimer = Timer(label: "s3mount_read_stall_seconds")
    private let memoryBytes = ObservedCounter(label: "s3mount_read_bytes_total", dimensions: [("source", "memory")])
    private let s3Bytes = ObservedCounter(label: "s3mount_read_bytes_total", dimensions: [("source", "s3")])
    private let stagingBytes = ObservedCounter(label: "s3mount_read_bytes_total", dimensions: [("source", "staging")])

    func answeredFromMemory(bytes: Int) {
        fromMemory.add(1, ordering: .relaxed)
        memoryBytes.add(UInt64(bytes))
        stalls.record(seconds: 0)
        stallTimer.recordNanoseconds(0)
    }

    func waited(for duration: Duration, bytes: Int, from source: Source) {
        let nanoseconds = UInt64(max(0, duration / .nanoseconds(1)))
        waited.add(1, ordering: .relaxed)
        stallNanoseconds.add(nanoseconds, ordering: .relaxed)
        _ = maxStallNanoseconds.max(nanoseconds, ordering: .relaxed)
        stalls.record(seconds: Double(nanoseconds) / 1e9)
        stallTimer.recordNanoseconds(Int64(clamping: nanoseconds))
        (source == .staging ? stagingBytes : s3Bytes).add(UInt64(bytes))
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
            manifestUsedBytes: manifest.usedBytes, manifestMissing: manifest.missing,
            bytesFromMemory: memoryBytes.value, bytesFromS3: s3Bytes.value, bytesFromStaging: stagingBytes.value,
            stallBuckets: stalls.snapshot)
    }
}
