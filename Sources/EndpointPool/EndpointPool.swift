// EndpointPool: an ObjectStore over several endpoints that serve the same buckets (gateways of one Ceph or MinIO
// cluster, an ADC's virtual servers), each its own store with its own connections (an S3HTTPStore per endpoint).
// Shaped like mountpoint-s3's failure_client.rs: a decorator the filesystem core cannot tell from one store.
//
// Design:
// - Choice: each request goes to one endpoint chosen by the policy (EndpointSelector: `failover` = first healthy in
//   the order given, `balanced` = fewest requests in flight weighted by latency EWMA), skipping endpoints whose
//   circuit breaker is open (EndpointHealth) and preferring those under their AIMD concurrency limit.
// - Failure: a failure that is the endpoint's fault (refused, reset, timeout, stall, 5xx, truncated or garbled
//   answer) or throttling (503 SlowDown, 429) is retried on another endpoint with full-jitter backoff within
//   RetryPolicy's bounds; an answer every endpoint would give (403, 404, 412, 416) is returned at once.
// - Continuation: a GET's bytes go to the caller's sink through a counter (DeliveredBytes); a retry asks only for
//   the rest of the range, with the same If-Match, so the caller sees one uninterrupted stream.
// - Stalls: every attempt is watched (Round.swift); one with no new bytes for max(stallFloor, k × p99 latency of
//   that endpoint and kind of request), for GETs at most getStallCeiling, is cancelled, which removes its
//   transfer, and continued elsewhere.
// - Hedging: a GET without its first byte after the hedging threshold gets a twin on another endpoint; the first
//   to deliver a byte wins, the other is cancelled; twins are capped at 5 % of GETs (Hedging.swift).
// - Writes (EndpointPool+Writes.swift): retried like LIST and HEAD, never hedged, not stall-watched by the pool.
// - Spent retries: a GET that failed after all its retries fails again at once if asked again within 1 s
//   (SpentGets): the kernel retries a failed buffered read immediately, and it should not wait twice.
// - Recovery: while an endpoint is down a prober lists the bucket (max-keys=1) every probeInterval (doubling to
//   maxProbeInterval); when it answers, one real request is let through as a trial, and success puts the endpoint
//   back in service. Down and up are logged at notice with `s3.endpoint`.
// Everything here is lock-protected state and tasks; nothing blocks a thread.

import Logging
import ObjectStore
import Synchronization

public final class EndpointPool: ObjectStore {
    /// One endpoint: its name for logs and snapshots (the URL) and the store that talks to it.
    public struct Endpoint: Sendable {
        public var name: String
        public var store: any ObjectStore

        public init(name: String, store: any ObjectStore) {
            self.name = name
            self.store = store
        }
    }

    static let cancelled = ObjectStoreError.client(ClientError(kind: .other, detail: "request cancelled"))

    public let bucket: String
    let endpoints: [Endpoint]
    let healths: [EndpointHealth]
    let config: EndpointPoolConfig
    let selector: EndpointSelector
    let hedging: HedgeBudget
    let timing: PoolTiming
    let logger: Logger
    let prober = Mutex<Task<Void, Never>?>(nil)
    let spentGets = SpentGets()
    let metrics: PoolMetrics

    /// With `activeProbing`, a task probes down endpoints every quarter of `probeInterval`; without it, tests
    /// call `probeDueEndpoints()` themselves.
    public init(
        endpoints: [Endpoint], config: EndpointPoolConfig, logger: Logger, timing: PoolTiming = .live,
        activeProbing: Bool = true
    ) {
        precondition(!endpoints.isEmpty, "an endpoint pool needs at least one endpoint")
        bucket = endpoints[0].store.bucket
        self.endpoints = endpoints
        healths = endpoints.map { _ in EndpointHealth(settings: config.healthSettings) }
        self.config = config
        selector = EndpointSelector(policy: config.policy)
        // Hedging spreads load over peers; in failover mode the other endpoints are spares and stay idle.
        var hedgingPolicy = config.hedging
        if config.policy == .failover { hedgingPolicy.enabled = false }
        hedging = HedgeBudget(policy: hedgingPolicy)
        self.timing = timing
        self.logger = logger
        metrics = PoolMetrics(endpointNames: endpoints.map(\.name))
        if activeProbing { startProber(tick: config.probeInterval / 4) }
    }

    deinit {
        prober.withLock { $0?.cancel() }
    }

    /// Every endpoint's state and counters now.
    public var snapshot: PoolSnapshot {
        let counts = hedging.counts
        return PoolSnapshot(
            endpoints: zip(endpoints, healths).map { $1.snapshot(endpoint: $0.name) }, gets: counts.gets,
            hedges: counts.hedges, hedgeWins: counts.wins)
    }

    /// GET body bytes received from each endpoint so far, in the order given.
    public var receivedBytes: [UInt64] { metrics.receivedBytes }

    // MARK: - ObjectStore

    public func list(_ request: ListRequest) async throws(ObjectStoreError) -> ListPage {
        let value = try await perform(.list) { attempt, _ in
            do throws(ObjectStoreError) {
                return .success(.page(try await self.endpoints[attempt.endpoint].store.list(request)))
            } catch {
                return .failure(error)
            }
        }
        guard case .page(let page) = value else { preconditionFailure("a LIST attempt returned \(value)") }
        return page
    }

    public func head(key: String) async throws(ObjectStoreError) -> ObjectInfo {
        let value = try await perform(.head) { attempt, _ in
            do throws(ObjectStoreError) {
                return .success(.info(try await self.endpoints[attempt.endpoint].store.head(key: key)))
            } catch {
                return .failure(error)
            }
        }
        guard case .info(let info) = value else { preconditionFailure("a HEAD attempt returned \(value)") }
        return info
    }

    public func get(key: String, range: ByteRange?, ifMatch: ETag?) async throws(ObjectStoreError) -> [UInt8] {
        let collector = ByteCollector(expected: range.map { Int(clamping: $0.count) } ?? 0)
        try await get(key: key, range: range, ifMatch: ifMatch, into: collector)
        return collector.bytes
    }

    public func get(key: String, range: ByteRange?, ifMatch: ETag?, into sink: any ByteSink)
        async throws(ObjectStoreError)
    {
        if let range, range.count == 0 { return }
        let request = SpentGets.Request(key: key, range: range, ifMatch: ifMatch)
        if let error = spentGets.recentError(for: request, now: timing.now()) { throw error }
        hedging.noteGet()
        let delivered = DeliveredBytes(sink)
        do throws(ObjectStoreError) {
            try await streamGet(key: key, range: range, ifMatch: ifMatch, into: delivered)
        } catch {
            if !Task.isCancelled, RetryPolicy.disposition(of: error) != .final {
                spentGets.remember(request, failedWith: error, now: timing.now())
            }
            throw error
        }
    }

    /// The GET, retried and continued across endpoints; bytes reach the caller through `delivered`.
    private func streamGet(key: String, range: ByteRange?, ifMatch: ETag?, into delivered: DeliveredBytes)
        async throws(ObjectStoreError)
    {
        _ = try await perform(.get, hedgeable: true) { attempt, race in
            let offset = delivered.count
            let rest: ByteRange?
            if let range {
                if offset >= range.count { return .success(.streamed) }
                rest = ByteRange(range.lowerBound + offset..<range.upperBound)
            } else {
                rest = offset == 0 ? nil : ByteRange(offset..<UInt64.max)
            }
            let attemptSink = AttemptSink(attempt: attempt, race: race, delivered: delivered, metrics: self.metrics)
            do throws(ObjectStoreError) {
                try await self.endpoints[attempt.endpoint].store.get(key: key, range: rest, ifMatch: ifMatch, into: attemptSink)
                return .success(.streamed)
            } catch {
                // The object ended exactly where the last attempt stopped: nothing was missing after all.
                if offset > 0, case .service(let service) = error, service.kind == .invalidRange {
                    return .success(.streamed)
                }
                return .failure(error)
            }
        }
    }

    // MARK: - Retries

    /// Runs rounds until one succeeds, the failure is final, or RetryPolicy's bounds are reached.
    func perform(
        _ kind: OperationKind, hedgeable: Bool = false,
        _ body: @escaping @Sendable (Attempt, Race) async -> Result<AttemptValue, ObjectStoreError>
    ) async throws(ObjectStoreError) -> AttemptValue {
        var failures = 0
        var waits = 0
        var stalls = 0
        var firstFailure: Double?
        var excluded: Set<Int> = []
        var lastError = Self.allDown(endpoints.count)
        while true {
            let plan = RoundPlan(
                kind: kind, hedgeable: hedgeable, excluded: excluded, stallScale: Double(1 << min(stalls, 10)),
                retryDeadline: firstFailure.map { $0 + config.retry.budget }, body: body)
            switch await runRound(plan) {
            case .success(let value):
                return value
            case .failure(let error, let endpoints, let stalled):
                if Task.isCancelled || RetryPolicy.disposition(of: error) == .final { throw error }
                failures += 1
                if stalled { stalls += 1 }
                excluded.formUnion(endpoints)
                lastError = error
            case .noEndpoint:
                if Task.isCancelled { throw Self.cancelled }
                waits += 1
            }
            let now = timing.now()
            firstFailure = firstFailure ?? now
            guard config.retry.allowsAttempt(afterFailures: failures, firstFailure: firstFailure, now: now) else {
                throw lastError
            }
            metrics.retry(kind)
            let delay = config.retry.backoff(afterFailures: max(1, failures + waits), uniform: timing.uniform())
            logger.debug(
                "retrying", metadata: ["s3.operation": "\(kind)", "error": "\(lastError)", "delay_ms": "\(Int(delay * 1000))"])
            do {
                try await timing.sleep(delay)
            } catch {
                throw Self.cancelled
            }
        }
    }

    private static func allDown(_ count: Int) -> ObjectStoreError {
        .client(ClientError(kind: .connectionRefused, detail: "all \(count) endpoints are out of service"))
    }

    /// Logs a breaker change of `endpoint` at notice.
    func report(_ transition: HealthTransition?, endpoint: Int, error: ObjectStoreError?) {
        guard let transition else { return }
        var metadata: Logger.Metadata = ["s3.endpoint": "\(endpoints[endpoint].name)"]
        switch transition {
        case .wentDown:
            if let error { metadata["error"] = "\(error)" }
            logger.notice("endpoint down", metadata: metadata)
        case .cameBack:
            logger.notice("endpoint up", metadata: metadata)
        }
    }
}
