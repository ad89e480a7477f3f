// What the filesystem shows operators besides ReadStats: the memory budget and the upload backlog, computed when
// asked (a scrape of /metrics, `s3mount status`, once a second at most), never on the read or write path.
import Foundation

/// Files owed to S3 and how far behind the uploads are.
public struct UploadBacklog: Sendable, Equatable {
    public var files: Int
    public var bytes: UInt64
    /// Seconds since the last change to the file that has waited longest (0 when nothing is owed).
    public var oldestSeconds: Double
}

/// What the cache tier holds and did, for operators (nil when the tier is off).
public struct CacheTierUsage: Sendable, Equatable {
    public var usedBytes: Int64
    public var capacityBytes: Int64
    public var hits: Int
    public var hitBytes: UInt64
    public var storedBytes: UInt64
    /// Block files found bad (checksum, length, name) and dropped.
    public var dropped: Int
    /// Blocks not kept because the capacity had no room for them even after eviction.
    public var refused: Int
    /// Reads and writes of the tier that failed (each kind is also logged once).
    public var failures: Int
    /// Blocks not kept because the tier's writes were behind the reads (a slow disk; logged once).
    public var skipped: Int
}

extension FileSystem {
    /// The cache tier's state, read from the shared usage counter and this mount's counters.
    public var cacheTierUsage: CacheTierUsage? {
        guard let cacheTier else { return nil }
        let counted = cacheTier.statistics
        return CacheTierUsage(
            usedBytes: cacheTier.usedBytes, capacityBytes: cacheTier.config.capacity, hits: counted.hits,
            hitBytes: counted.hitBytes, storedBytes: counted.storedBytes, dropped: counted.dropped,
            refused: counted.refused, failures: counted.failures, skipped: counted.skipped)
    }

    /// Bytes of the memory budget in use (cached blocks, read-ahead, transfers in flight) and its limit.
    public var memoryUsage: (used: Int, limit: Int) {
        (fetcher.cache.budget.usedBytes, fetcher.cache.budget.limit)
    }

    /// Staged files whose bytes are not yet durable in S3 (nothing on a read-only mount).
    public var uploadBacklog: UploadBacklog {
        let dirty = (writeback?.staging.all ?? []).compactMap { file in
            file.state.withLock { state in
                state.generation > state.uploadedGeneration && !state.removed ? (state.size, state.mtime) : nil
            }
        }
        let oldest = dirty.map(\.1).min().map { max(0, Date().timeIntervalSince1970 - $0) } ?? 0
        return UploadBacklog(files: dirty.count, bytes: dirty.reduce(0) { $0 + $1.0 }, oldestSeconds: oldest)
    }
}
