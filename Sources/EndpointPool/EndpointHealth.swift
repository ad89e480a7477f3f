// EndpointHealth: what the pool knows about one endpoint, from its own traffic (passive health) and from probes
// while it is down (active health).
//
// Circuit breaker:
//   closed     normal service. `failureThreshold` endpoint faults in a row (refused, reset, timeout, stall, 5xx,
//              truncated body) open it.
//   open       no requests. The prober sends a cheap request (ListObjectsV2 max-keys=1) when `nextProbe` comes,
//              first after `probeInterval`, then with the interval doubling up to `maxProbeInterval`. A probe
//              that answers moves it to half-open.
//   half-open  one real request at a time is let through as a trial: success closes the breaker, a fault opens it
//              again (and the probe interval keeps growing).
// Throttling (503 SlowDown, 429) never opens the breaker: it halves the endpoint's concurrency limit (AIMD) and
// pushes the endpoint back for a moment (ConcurrencyLimit).
// Latencies are kept per kind of request: time to first body byte for GETs, whole request for HEAD and LIST.
// The latency EWMA the balanced policy ranks by is time-aware: a sample after a silence weighs more
// (1 - e^(-silence/1 s), at least `ewmaWeight`), and an endpoint without samples for more than a second and
// without requests in flight is ranked as if its latency halved every further second. An endpoint that looked slow
// once (a cold gateway's first answers) is therefore tried again within seconds and its real latency learnt in a
// few samples, while one that is really slow (+50 ms) costs one request every few seconds: the decayed estimate
// buys one request at a time, and its answer refreshes the estimate.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The kinds of request whose latencies are tracked apart (a LIST page takes far longer than a GET's first byte).
/// `write` covers every write and multipart call (ListMultipartUploads too): their time grows with the body or
/// the copy, so none is recorded as a latency, and the pool leaves their stalls to curl's low-speed limit.
public enum OperationKind: Int, Sendable, CaseIterable {
    case get, head, list, write
}

/// The breaker's state, as reported in snapshots and logs.
public enum BreakerState: String, Sendable {
    case closed, open, halfOpen = "half-open"
}

/// A breaker change the pool logs.
enum HealthTransition: Sendable, Equatable {
    case wentDown
    case cameBack
}

/// The pool's use of one endpoint right now.
enum Availability: Sendable, Equatable {
    /// Closed: `outstanding` requests in flight of `allowed`; `latency` is the latency EWMA (nil: no sample yet).
    case ready(outstanding: Int, allowed: Int, latency: Double?)
    /// Half-open and no trial in flight: the next request is the trial.
    case trial
    /// Open, or half-open with its trial in flight.
    case down
}

final class EndpointHealth: Sendable {
    struct Settings: Sendable {
        var failureThreshold = 3
        var probeInterval = 1.0
        var maxProbeInterval = 4.0
        var maxConcurrency = 32
        /// How long a throttling episode pushes the endpoint back, at first and at most (ConcurrencyLimit).
        var initialPushback = 0.1
        var maxPushback = 5.0
        /// Weight of a new sample in the latency EWMA (at least; more after a silence).
        var ewmaWeight = 0.2
        /// Seconds without samples after which the ranked latency starts halving, and its half-life.
        var staleAfter = 1.0
        var staleHalfLife = 1.0
    }

    private struct State {
        var breaker = BreakerState.closed
        var consecutiveFaults = 0
        var nextProbe = 0.0
        var probeInterval: Double
        var trialInFlight = false
        var requests = 0
        var errors = 0
        var throttled = 0
        var outstanding = 0
        var limit: ConcurrencyLimit
        var latencyEWMA: Double?
        var lastSample = -Double.infinity
        var windows = OperationKind.allCases.map { _ in LatencyWindow() }
    }

    let settings: Settings
    private let state: Mutex<State>

    init(settings: Settings) {
        self.settings = settings
        let limit = ConcurrencyLimit(
            maximum: settings.maxConcurrency, initialPushback: settings.initialPushback, maxPushback: settings.maxPushback)
        state = Mutex(State(probeInterval: settings.probeInterval, limit: limit))
    }

    func availability(now: Double) -> Availability {
        state.withLock { state in
            switch state.breaker {
            case .closed:
                return .ready(
                    outstanding: state.outstanding, allowed: state.limit.allowed(now: now),
                    latency: Self.rankedLatency(state, now: now, settings: settings))
            case .halfOpen: return state.trialInFlight ? .down : .trial
            case .open: return .down
            }
        }
    }

    var breaker: BreakerState { state.withLock { $0.breaker } }

    /// The latency EWMA in seconds; nil before the first sample.
    var latency: Double? { state.withLock { $0.latencyEWMA } }

    /// A request starts on this endpoint (in half-open state it becomes the trial).
    func begin() {
        state.withLock { state in
            state.requests += 1
            state.outstanding += 1
            if state.breaker == .halfOpen { state.trialInFlight = true }
        }
    }

    /// The request answered; `latency` is its first-byte (GET) or total (HEAD, LIST) time in seconds.
    func succeeded(_ kind: OperationKind, latency: Double?, now: Double) -> HealthTransition? {
        state.withLock { state in
            state.outstanding -= 1
            state.consecutiveFaults = 0
            state.limit.recordSuccess()
            if let latency { Self.record(latency, kind, at: now, in: &state, settings: settings) }
            return Self.closeIfHalfOpen(&state, settings: settings)
        }
    }

    /// The first body byte of a GET arrived after `latency` seconds (recorded even if the transfer later fails).
    func firstByte(after latency: Double, now: Double) {
        state.withLock { Self.record(latency, .get, at: now, in: &$0, settings: settings) }
    }

    /// The request failed in a way `disposition` describes.
    func failed(_ disposition: RetryPolicy.Disposition, now: Double) -> HealthTransition? {
        state.withLock { state in
            state.outstanding -= 1
            state.errors += 1
            switch disposition {
            case .final, .throttled:
                // The endpoint answered: it is alive, whatever it said.
                if disposition == .throttled {
                    state.throttled += 1
                    state.limit.recordThrottled(now: now)
                }
                state.consecutiveFaults = 0
                return Self.closeIfHalfOpen(&state, settings: settings)
            case .endpointFault:
                state.consecutiveFaults += 1
                return Self.openIfDue(&state, threshold: settings.failureThreshold, now: now, settings: settings)
            }
        }
    }

    /// The request was called off (the caller gave up, or a hedged twin answered first): no verdict on health.
    /// Losing a race to a twin does confirm the latency estimate is still no better than it was: the estimate
    /// counts as fresh, so a slow endpoint whose requests are all hedged away is not retried ever sooner.
    func abandoned(lostRace: Bool, now: Double) {
        state.withLock { state in
            state.outstanding -= 1
            if state.breaker == .halfOpen { state.trialInFlight = false }
            if lostRace, state.latencyEWMA != nil { state.lastSample = max(state.lastSample, now) }
        }
    }

    /// Whether an open breaker's next probe is due.
    func probeDue(now: Double) -> Bool {
        state.withLock { $0.breaker == .open && now >= $0.nextProbe }
    }

    /// A probe's outcome: an answer moves an open breaker to half-open; silence pushes the next probe back.
    func probed(answered: Bool, now: Double) {
        state.withLock { state in
            guard state.breaker == .open else { return }
            if answered {
                state.breaker = .halfOpen
                state.trialInFlight = false
                state.consecutiveFaults = 0
            } else {
                state.probeInterval = min(settings.maxProbeInterval, state.probeInterval * 2)
                state.nextProbe = now + state.probeInterval
            }
        }
    }

    /// The `q` quantile of this endpoint's recent latencies of `kind`, nil while there are too few.
    func latencyQuantile(_ q: Double, of kind: OperationKind) -> Double? {
        state.withLock { $0.windows[kind.rawValue].quantile(q) }
    }

    func snapshot(endpoint: String) -> EndpointSnapshot {
        state.withLock { state in
            EndpointSnapshot(
                endpoint: endpoint, state: state.breaker, requests: state.requests, errors: state.errors,
                throttled: state.throttled, outstanding: state.outstanding, concurrencyLimit: state.limit.current,
                latencyEWMA: state.latencyEWMA, getLatencyP95: state.windows[OperationKind.get.rawValue].quantile(0.95))
        }
    }

    private static func record(
        _ latency: Double, _ kind: OperationKind, at now: Double, in state: inout State, settings: Settings
    ) {
        state.windows[kind.rawValue].add(latency)
        let silence = max(0, now - state.lastSample)
        let weight = max(settings.ewmaWeight, 1 - exp(-silence / settings.staleAfter))
        state.latencyEWMA = state.latencyEWMA.map { $0 + weight * (latency - $0) } ?? latency
        state.lastSample = now
    }

    /// The EWMA, halving every `staleHalfLife` seconds once the endpoint has had no sample for `staleAfter` and
    /// has no request in flight.
    private static func rankedLatency(_ state: State, now: Double, settings: Settings) -> Double? {
        guard let ewma = state.latencyEWMA else { return nil }
        guard state.outstanding == 0 else { return ewma }
        let stale = now - state.lastSample - settings.staleAfter
        return stale > 0 ? ewma * pow(0.5, stale / settings.staleHalfLife) : ewma
    }

    private static func closeIfHalfOpen(_ state: inout State, settings: Settings) -> HealthTransition? {
        guard state.breaker == .halfOpen else { return nil }
        state.breaker = .closed
        state.trialInFlight = false
        state.probeInterval = settings.probeInterval
        return .cameBack
    }

    private static func openIfDue(_ state: inout State, threshold: Int, now: Double, settings: Settings) -> HealthTransition? {
        switch state.breaker {
        case .open:
            return nil
        case .halfOpen:
            state.trialInFlight = false
        case .closed:
            guard state.consecutiveFaults >= threshold else { return nil }
        }
        let wasClosed = state.breaker == .closed
        state.breaker = .open
        if wasClosed { state.probeInterval = settings.probeInterval }
        state.nextProbe = now + state.probeInterval
        // What the endpoint showed before it failed says nothing about it when it returns.
        state.latencyEWMA = nil
        for index in state.windows.indices { state.windows[index].removeAll() }
        return wasClosed ? .wentDown : nil
    }
}
