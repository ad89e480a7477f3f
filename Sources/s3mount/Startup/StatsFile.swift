// --stats-file: the endpoint pool's snapshot, the read counters (stalls; dataset, manifest and record read-ahead)
// and the cache tier's as JSON, rewritten (written atomically) every second by a thread of its own, for operators and the
// tests. Holds no secrets: URLs, states and counters only.
import EndpointPool
import Foundation
import Logging
import S3FSCore

enum StatsFile {
    static func start(path: String, pool: EndpointPool, fileSystem: FileSystem, logger: Logger) {
        let thread = Thread { [weak pool, weak fileSystem] in
            var warned = false
            while let current = pool, let fileSystem {
                do {
                    try write(current.snapshot, fileSystem.readStatistics, fileSystem.cacheTierUsage, to: path)
                } catch where !warned {
                    logger.warning("cannot write the stats file", metadata: ["path": "\(path)", "error": "\(error)"])
                    warned = true
                } catch {}
                Thread.sleep(forTimeInterval: 1)
            }
        }
        thread.name = "s3m-stats"
        thread.start()
    }

    static func write(
        _ snapshot: PoolSnapshot, _ reads: ReadStats.Snapshot, _ tier: CacheTierUsage?, to path: String
    ) throws {
        let endpoints: [[String: Any]] = snapshot.endpoints.map { endpoint in
            [
                "endpoint": endpoint.endpoint, "state": endpoint.state.rawValue, "requests": endpoint.requests,
                "errors": endpoint.errors, "throttled": endpoint.throttled, "outstanding": endpoint.outstanding,
                "concurrency_limit": endpoint.concurrencyLimit,
                "latency_ewma_ms": endpoint.latencyEWMA.map { $0 * 1000 } ?? NSNull(),
                "get_latency_p95_ms": endpoint.getLatencyP95.map { $0 * 1000 } ?? NSNull(),
            ]
        }
        var document: [String: Any] = [
            "endpoints": endpoints, "gets": snapshot.gets, "hedges": snapshot.hedges, "hedge_wins": snapshot.hedgeWins,
            "reads": [
                "from_memory": reads.readsFromMemory, "waited": reads.readsThatWaited,
                "stall_seconds_total": reads.stallSeconds, "stall_max_ms": reads.maxStallSeconds * 1000,
            ],
            "dataset_read_ahead": [
                "prefetched_bytes": reads.datasetPrefetchedBytes, "used_bytes": reads.datasetUsedBytes,
                "prefetched_files": reads.datasetPrefetchedFiles, "used_files": reads.datasetUsedFiles,
            ],
            "manifest_read_ahead": [
                "entries": reads.manifestEntries, "missing": reads.manifestMissing,
                "prefetched_files": reads.manifestPrefetchedFiles, "prefetched_bytes": reads.manifestPrefetchedBytes,
                "used_files": reads.manifestUsedFiles, "used_bytes": reads.manifestUsedBytes,
            ],
            "record_read_ahead": [
                "prefetched_records": reads.recordsPrefetched, "prefetched_bytes": reads.recordBytesPrefetched,
                "reads_from_prefetched": reads.readsFromPrefetchedRecords,
            ],
        ]
        if let tier {
            document["cache_tier"] = [
                "used_bytes": tier.usedBytes, "capacity_bytes": tier.capacityBytes, "hits": tier.hits,
                "hit_bytes": tier.hitBytes, "stored_bytes": tier.storedBytes, "dropped": tier.dropped, "refused": tier.refused,
                "failures": tier.failures, "skipped": tier.skipped,
            ]
        }
        let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
