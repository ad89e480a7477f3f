// The knobs of an EndpointPool; defaults are the ones docs/SEMANTICS.md ("Several endpoints") describes.

/// How requests are spread over the endpoints.
public enum EndpointPolicy: String, Sendable, CaseIterable {
    /// Every request to the first healthy endpoint in the order given; the others are spares.
    case failover
    /// Each request to the healthy endpoint with the fewest requests in flight, weighted by its latency.
    case balanced
}

public struct EndpointPoolConfig: Sendable {
    public var policy: EndpointPolicy
    public var retry: RetryPolicy
    public var hedging: HedgingPolicy
    /// A transfer with no new bytes for max(stallFloor, stallLatencyMultiple × the endpoint's p99 latency of that
    /// kind of request) seconds, and for a GET at most getStallCeiling, is abandoned and continued elsewhere; each
    /// stall of one operation doubles the limit for its next attempt. The ceiling bounds what a reader waits when a
    /// gateway freezes under load (its p99 is then high); curl's own low-speed abort (--stall-timeout) stays
    /// underneath as the hard bound.
    public var stallFloor: Double
    public var stallLatencyMultiple: Double
    public var getStallCeiling: Double
    /// Endpoint faults in a row that take an endpoint out of service.
    public var failureThreshold: Int
    /// First interval between probes of a down endpoint; it doubles up to `maxProbeInterval`.
    public var probeInterval: Double
    public var maxProbeInterval: Double
    /// A probe unanswered after this many seconds counts as failed.
    public var probeTimeout: Double
    /// The prefix the probe lists (max-keys=1): the mounted prefix, which the credentials may list.
    public var probePrefix: String
    /// Requests in flight per endpoint before throttling lowers it (AIMD upper bound).
    public var maxConcurrencyPerEndpoint: Int
    /// A throttling episode keeps new requests off the endpoint this long, doubling per episode in a row.
    public var initialThrottlePushback: Double
    public var maxThrottlePushback: Double

    public init(
        policy: EndpointPolicy = .balanced, retry: RetryPolicy = RetryPolicy(), hedging: HedgingPolicy = HedgingPolicy(),
        stallFloor: Double = 1, stallLatencyMultiple: Double = 4, getStallCeiling: Double = 1.5, failureThreshold: Int = 3,
        probeInterval: Double = 1, maxProbeInterval: Double = 4, probeTimeout: Double = 2, probePrefix: String = "",
        maxConcurrencyPerEndpoint: Int = 32, initialThrottlePushback: Double = 0.1, maxThrottlePushback: Double = 5
    ) {
        self.policy = policy
        self.retry = retry
        self.hedging = hedging
        self.stallFloor = stallFloor
        self.stallLatencyMultiple = stallLatencyMultiple
        self.getStallCeiling = getStallCeiling
        self.failureThreshold = failureThreshold
        self.probeInterval = probeInterval
        self.maxProbeInterval = maxProbeInterval
        self.probeTimeout = probeTimeout
        self.probePrefix = probePrefix
        self.maxConcurrencyPerEndpoint = maxConcurrencyPerEndpoint
        self.initialThrottlePushback = initialThrottlePushback
        self.maxThrottlePushback = maxThrottlePushback
    }

    var healthSettings: EndpointHealth.Settings {
        EndpointHealth.Settings(
            failureThreshold: failureThreshold, probeInterval: probeInterval, maxProbeInterval: maxProbeInterval,
            maxConcurrency: maxConcurrencyPerEndpoint, initialPushback: initialThrottlePushback,
            maxPushback: maxThrottlePushback)
    }
}
