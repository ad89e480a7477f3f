// MountStatus: the JSON document a daemon's control socket answers with, and that `s3mount status --json`
// prints (one per mount). Rates and stall quantiles cover the last minute (less right after mounting: `window_seconds`
// says how much). Field names are snake_case and units are in the names; no credentials, ever.
struct MountStatus: Codable, Equatable {
    struct Endpoint: Codable, Equatable {
        var endpoint: String
        /// closed (in service), open (down), half-open (on trial).
        var state: String
        var up: Bool
        var requests: Int
        var errors: Int
        var throttled: Int
        var inFlight: Int
        var concurrencyLimit: Int
        var latencyMs: Double?
        var receivedBytes: UInt64
    }

    struct Throughput: Codable, Equatable {
        var windowSeconds: Double
        var s3ReceivedBytesPerSecond: Double
        var readBytesPerSecond: Double
        var readsPerSecond: Double
    }

    struct Reads: Codable, Equatable {
        var reads: UInt64
        var bytesFromMemory: UInt64
        var bytesFromS3: UInt64
        var bytesFromStaging: UInt64
        /// Of the reads of the window, those answered from memory without waiting.
        var memoryHitRatio: Double?
        var stallP50Seconds: Double?
        var stallP99Seconds: Double?
        var stallMaxSeconds: Double
    }

    struct Metadata: Codable, Equatable {
        var hits: UInt64
        var misses: UInt64
        var hitRatio: Double?
    }

    struct Memory: Codable, Equatable {
        var usedBytes: Int
        var limitBytes: Int
    }

    struct DatasetReadAhead: Codable, Equatable {
        var prefetchedBytes: UInt64
        var usedBytes: UInt64
    }

    struct Uploads: Codable, Equatable {
        var pendingFiles: Int
        var pendingBytes: UInt64
        var oldestPendingSeconds: Double
    }

    struct RecentError: Codable, Equatable {
        var time: Double
        var operation: String
        var errno: String
        var message: String
    }

    var mountpoint: String
    var bucket: String
    var prefix: String
    var pid: Int32
    var uptimeSeconds: Double
    var endpoints: [Endpoint]
    var throughput: Throughput
    var reads: Reads
    var metadata: Metadata
    var memory: Memory
    var datasetReadAhead: DatasetReadAhead
    var uploads: Uploads
    var recentErrors: [RecentError]
}
