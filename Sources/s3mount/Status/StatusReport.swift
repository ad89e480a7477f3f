// StatusReport: builds the MountStatus document from the running mount (MountObservables) and the last minute
// of samples (StatusSampler).
import EndpointPool
import Foundation
import Glibc
import Observability

struct StatusReport {
    let sources: MountObservables
    let sampler: StatusSampler

    func document() -> MountStatus {
        let snapshot = sources.pool.snapshot
        let received = sources.pool.receivedBytes
        let reads = sources.fileSystem.readStatistics
        let (now, then) = sampler.window()
        let window = max(now.time - then.time, 0.001)
        let stalls = zip(now.stallBuckets, then.stallBuckets).map { $0 - $1 }
        let windowReads = now.reads - then.reads
        let metadata = sources.mount.metadataAnswers
        let memory = sources.fileSystem.memoryUsage
        let backlog = sources.fileSystem.uploadBacklog
        return MountStatus(
            mountpoint: sources.mountpoint, bucket: sources.bucket, prefix: sources.prefix, pid: getpid(),
            uptimeSeconds: now.time - sources.started,
            endpoints: zip(snapshot.endpoints, received).map { endpoint, bytes in
                MountStatus.Endpoint(
                    endpoint: endpoint.endpoint, state: endpoint.state.rawValue, up: endpoint.state == .closed,
                    requests: endpoint.requests, errors: endpoint.errors, throttled: endpoint.throttled,
                    inFlight: endpoint.outstanding, concurrencyLimit: endpoint.concurrencyLimit,
                    latencyMs: endpoint.latencyEWMA.map { $0 * 1000 }, receivedBytes: bytes)
            },
            throughput: MountStatus.Throughput(
                windowSeconds: window, s3ReceivedBytesPerSecond: Double(now.receivedBytes - then.receivedBytes) / window,
                readBytesPerSecond: Double(now.readBytes - then.readBytes) / window, readsPerSecond: Double(windowReads) / window),
            reads: MountStatus.Reads(
                reads: now.reads, bytesFromMemory: reads.bytesFromMemory, bytesFromS3: reads.bytesFromS3,
                bytesFromStaging: reads.bytesFromStaging,
                memoryHitRatio: Self.ratio(now.readsFromMemory - then.readsFromMemory, of: windowReads),
                stallP50Seconds: LatencyBuckets.quantile(0.5, counts: stalls),
                stallP99Seconds: LatencyBuckets.quantile(0.99, counts: stalls), stallMaxSeconds: reads.maxStallSeconds),
            metadata: MountStatus.Metadata(
                hits: metadata.hits, misses: metadata.misses,
                hitRatio: Self.ratio(metadata.hits, of: metadata.hits + metadata.misses)),
            memory: MountStatus.Memory(usedBytes: memory.used, limitBytes: memory.limit),
            datasetReadAhead: MountStatus.DatasetReadAhead(
                prefetchedBytes: reads.datasetPrefetchedBytes, usedBytes: reads.datasetUsedBytes),
            uploads: MountStatus.Uploads(
                pendingFiles: backlog.files, pendingBytes: backlog.bytes, oldestPendingSeconds: backlog.oldestSeconds),
            recentErrors: sources.mount.recentErrors.map { error in
                MountStatus.RecentError(
                    time: error.time, operation: error.operation, errno: ErrnoName.of(error.errno), message: error.message)
            })
    }

    private static func ratio(_ part: UInt64, of whole: UInt64) -> Double? {
        whole == 0 ? nil : Double(part) / Double(whole)
    }
}
