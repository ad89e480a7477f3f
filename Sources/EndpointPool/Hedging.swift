// Hedged GETs: a GET whose first byte is later than the hedging threshold gets a twin on another endpoint; the
// first of the two to deliver a byte owns the caller's sink and the other is cancelled at that moment.
//
// Threshold: the lowest p95 of GET time-to-first-byte among the endpoints in service (and at least
// `minimumDelay`). Not the p95 of the endpoint the GET went to: an endpoint that is uniformly slow (+50 ms) has a
// p95 that its own requests never exceed, so its GETs would never be hedged; measured against the best endpoint,
// they are. No threshold (no hedging) until an endpoint has 20 samples.
// Where: the endpoint the policy would choose next, unless its latency EWMA is more than twice the primary's
// endpoint's (a twin on a much slower endpoint would answer after the primary's own tail: it only spends a token).
// Cap: a token bucket that gains `maxExtraFraction` of a token per GET (callers' GETs, not retries) and starts
// empty; a twin costs one token, so twins never exceed that fraction of GETs; `burst` bounds the savings.
// A round is also where the stall watchdog runs: see EndpointPool.runRound.

import Synchronization

public struct HedgingPolicy: Sendable, Hashable {
    public var enabled: Bool
    public var maxExtraFraction: Double
    public var minimumDelay: Double
    public var burst: Double

    public init(enabled: Bool = true, maxExtraFraction: Double = 0.05, minimumDelay: Double = 0.002, burst: Double = 10) {
        self.enabled = enabled
        self.maxExtraFraction = maxExtraFraction
        self.minimumDelay = minimumDelay
        self.burst = burst
    }
}

/// The hedging token bucket and its counters.
final class HedgeBudget: Sendable {
    private struct State {
        var tokens = 0.0
        var gets = 0
        var hedges = 0
        var wins = 0
    }

    private let policy: HedgingPolicy
    private let state = Mutex(State())

    init(policy: HedgingPolicy) { self.policy = policy }

    func noteGet() {
        state.withLock { state in
            state.gets += 1
            state.tokens = min(policy.burst, state.tokens + policy.maxExtraFraction)
        }
    }

    /// Takes a token for a twin, if there is one.
    func take() -> Bool {
        state.withLock { state in
            guard policy.enabled, state.tokens >= 1 else { return false }
            state.tokens -= 1
            state.hedges += 1
            return true
        }
    }

    /// Whether a twin on an endpoint with latency EWMA `twin` can beat a primary on one with `primary`.
    static func isWorthATwin(primary: Double?, twin: Double?) -> Bool {
        guard let primary, let twin else { return true }
        return twin <= 2 * primary
    }

    func noteWin() { state.withLock { $0.wins += 1 } }

    var counts: (gets: Int, hedges: Int, wins: Int) { state.withLock { ($0.gets, $0.hedges, $0.wins) } }

    /// Seconds after which a GET without its first byte is hedged, or nil (disabled, too few samples, or no
    /// second endpoint in service for a twin: then no GET pays for a timer that can only find nobody to hedge to).
    func threshold(_ endpoints: [EndpointHealth]) -> Double? {
        guard policy.enabled, endpoints.lazy.filter({ $0.breaker != .open }).count > 1 else { return nil }
        let p95s = endpoints.filter { $0.breaker == .closed }.compactMap { $0.latencyQuantile(0.95, of: .get) }
        return p95s.min().map { max(policy.minimumDelay, $0) }
    }
}
