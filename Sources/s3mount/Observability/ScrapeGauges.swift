// ScrapeGauges: the values that are states, not events — each endpoint's breaker, requests in flight and
// concurrency limit, the memory budget, the upload backlog — and the dataset read-ahead totals the core keeps
// itself, published into swift-metrics handles just before each scrape (`refresh`), so nothing on the read path
// pays for them:
//   s3mount_endpoint_up{endpoint}, s3mount_endpoint_breaker_state{endpoint, state}
//   s3mount_endpoint_in_flight{endpoint}, s3mount_endpoint_concurrency_limit{endpoint}
//   s3mount_memory_used_bytes, s3mount_memory_limit_bytes
//   s3mount_uploads_pending_files, s3mount_uploads_pending_bytes, s3mount_uploads_oldest_pending_seconds
//   s3mount_dataset_prefetch_bytes_total{state="fetched"|"used"}, s3mount_dataset_prefetch_files_total{state}
//   s3mount_manifest_prefetch_bytes_total{state="fetched"|"used"}, s3mount_record_prefetch_bytes_total
//   s3mount_cache_tier_used_bytes, s3mount_cache_tier_capacity_bytes (the whole shared directory),
//   s3mount_cache_tier_bytes_total{state="hit"|"stored"}, s3mount_cache_tier_problems_total{state="dropped"|"refused"|"failed"|"skipped"}
import CoreMetrics
import EndpointPool

final class ScrapeGauges: Sendable {
    private struct EndpointGauges: Sendable {
        let up: Gauge
        let states: [(BreakerState, Gauge)]
        let inFlight: Gauge
        let limit: Gauge
    }

    private let sources: MountObservables
    private let endpoints: [EndpointGauges]
    private let memoryUsed = Gauge(label: "s3mount_memory_used_bytes")
    private let memoryLimit = Gauge(label: "s3mount_memory_limit_bytes")
    private let pendingFiles = Gauge(label: "s3mount_uploads_pending_files")
    private let pendingBytes = Gauge(label: "s3mount_uploads_pending_bytes")
    private let oldestPending = Gauge(label: "s3mount_uploads_oldest_pending_seconds")
    private let datasetBytes = CounterMirror(label: "s3mount_dataset_prefetch_bytes_total")
    private let datasetFiles = CounterMirror(label: "s3mount_dataset_prefetch_files_total")
    private let manifestBytes = CounterMirror(label: "s3mount_manifest_prefetch_bytes_total")
    private let recordBytes = CounterMirror(label: "s3mount_record_prefetch_bytes_total")
    private let tierUsed = Gauge(label: "s3mount_cache_tier_used_bytes")
    private let tierCapacity = Gauge(label: "s3mount_cache_tier_capacity_bytes")
    private let tierBytes = CounterMirror(label: "s3mount_cache_tier_bytes_total")
    private let tierProblems = CounterMirror(label: "s3mount_cache_tier_problems_total")

    init(sources: MountObservables) {
        self.sources = sources
        endpoints = sources.pool.snapshot.endpoints.map { endpoint in
            let name = [("endpoint", endpoint.endpoint)]
            return EndpointGauges(
                up: Gauge(label: "s3mount_endpoint_up", dimensions: name),
                states: [BreakerState.closed, .open, .halfOpen].map { state in
                    (state, Gauge(label: "s3mount_endpoint_breaker_state", dimensions: name + [("state", state.rawValue)]))
                },
                inFlight: Gauge(label: "s3mount_endpoint_in_flight", dimensions: name),
                limit: Gauge(label: "s3mount_endpoint_concurrency_limit", dimensions: name))
        }
    }

    /// Sets every gauge from the mount's state now.
    func refresh() {
        for (gauges, endpoint) in zip(endpoints, sources.pool.snapshot.endpoints) {
            gauges.up.record(endpoint.state == .closed ? 1 : 0)
            for (state, gauge) in gauges.states { gauge.record(endpoint.state == state ? 1 : 0) }
            gauges.inFlight.record(endpoint.outstanding)
            gauges.limit.record(endpoint.concurrencyLimit)
        }
        let memory = sources.fileSystem.memoryUsage
        memoryUsed.record(memory.used)
        memoryLimit.record(memory.limit)
        let backlog = sources.fileSystem.uploadBacklog
        pendingFiles.record(backlog.files)
        pendingBytes.record(backlog.bytes)
        oldestPending.record(backlog.oldestSeconds)
        let reads = sources.fileSystem.readStatistics
        datasetBytes.publish(["fetched": reads.datasetPrefetchedBytes, "used": reads.datasetUsedBytes])
        datasetFiles.publish(["fetched": reads.datasetPrefetchedFiles, "used": reads.datasetUsedFiles])
        manifestBytes.publish(["fetched": reads.manifestPrefetchedBytes, "used": reads.manifestUsedBytes])
        recordBytes.publish(["fetched": reads.recordBytesPrefetched])
        if let tier = sources.fileSystem.cacheTierUsage {
            tierUsed.record(tier.usedBytes)
            tierCapacity.record(tier.capacityBytes)
            tierBytes.publish(["hit": tier.hitBytes, "stored": tier.storedBytes])
            tierProblems.publish([
                "dropped": UInt64(tier.dropped), "refused": UInt64(tier.refused), "failed": UInt64(tier.failures),
                "skipped": UInt64(tier.skipped),
            ])
        }
    }
}
