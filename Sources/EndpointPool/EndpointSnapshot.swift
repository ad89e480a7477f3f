// Per-endpoint counters for logs, the stats file and (later) metrics export.

/// One endpoint's state and counters at one moment.
public struct EndpointSnapshot: Sendable, Hashable {
    public var endpoint: String
    public var state: BreakerState
    /// Requests sent (including probes' trials, retries and hedged twins; not the probes themselves).
    public var requests: Int
    /// Requests that failed, for any reason.
    public var errors: Int
    /// Of the errors, 503 SlowDown / 429 answers.
    public var throttled: Int
    public var outstanding: Int
    /// The AIMD concurrency limit now.
    public var concurrencyLimit: Int
    /// Latency EWMA in seconds (first byte for GETs, whole request otherwise); nil before the first sample.
    public var latencyEWMA: Double?
    /// p95 of recent GET first-byte latencies in seconds; nil with too few samples.
    public var getLatencyP95: Double?
}

/// The pool's snapshot: every endpoint plus the hedging counters.
public struct PoolSnapshot: Sendable, Hashable {
    public var endpoints: [EndpointSnapshot]
    /// GETs started by callers (not counting retries or twins).
    public var gets: Int
    /// Hedged twins started.
    public var hedges: Int
    /// Hedged twins whose answer won.
    public var hedgeWins: Int
}
