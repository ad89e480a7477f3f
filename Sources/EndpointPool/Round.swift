// One round of an operation: a request on the chosen endpoint, watched for stalls, maybe hedged by a twin on
// another endpoint; it ends with the owner's success or failure, every attempt's outcome recorded in its
// endpoint's health. EndpointPool retries failed rounds.

import ObjectStore

/// What an operation asks of a round.
struct RoundPlan: Sendable {
    let kind: OperationKind
    let hedgeable: Bool
    /// Endpoints this operation already failed on: chosen only when nothing else is up.
    let excluded: Set<Int>
    /// Multiplies the stall limit (doubles with each stall of this operation).
    let stallScale: Double
    /// When the operation's retries end (its first failure + the retry budget): no attempt is left to run much
    /// past it, so an operation on hanging endpoints fails in bounded time. Nil before the first failure.
    let retryDeadline: Double?
    let body: @Sendable (Attempt, Race) async -> Result<AttemptValue, ObjectStoreError>
}

enum RoundResult: Sendable {
    case success(AttemptValue)
    case failure(ObjectStoreError, endpoints: Set<Int>, stalled: Bool)
    /// Every endpoint is out of service.
    case noEndpoint
}

enum RoundEvent: Sendable {
    case finished(Attempt, Result<AttemptValue, ObjectStoreError>)
    case stalled(Attempt)
    case hedgeDue
    case watchEnded
}

/// The round's bookkeeping, kept by the task that runs it.
struct RoundState {
    var result: RoundResult?
    var pending = 0
    var failedEndpoints: Set<Int> = []
}

extension EndpointPool {
    func runRound(_ plan: RoundPlan) async -> RoundResult {
        guard let first = selector.pick(healths, excluding: plan.excluded, now: timing.now(), uniform: timing.uniform) else {
            return .noEndpoint
        }
        let race = Race()
        let primary = startAttempt(0, on: first, plan, race)
        let hedgeAt = plan.hedgeable ? hedging.threshold(healths).map { primary.started + $0 } : nil
        return await withTaskGroup(of: RoundEvent.self) { group in
            var round = RoundState(pending: 1)
            group.addTask { .finished(primary, await primary.outcome()) }
            // Nothing to watch for (no hedge, no stall limit: one endpoint in service) costs no timer.
            if hedgeAt != nil || primary.stallLimit < .infinity {
                group.addTask { await self.watch(race, hedgeAt: hedgeAt) }
            }
            while let event = await group.next() {
                switch event {
                case .finished(let attempt, let outcome):
                    round.pending -= 1
                    if settle(attempt, outcome, plan.kind, race, &round) { group.cancelAll() }
                case .stalled(let attempt):
                    guard round.result == nil else { continue }
                    attempt.callOff(.stalled(limit: attempt.stallLimit))
                    group.addTask { await self.watch(race, hedgeAt: nil) }
                case .hedgeDue:
                    guard round.result == nil else { continue }
                    if let twin = startTwin(of: primary, plan, race) {
                        round.pending += 1
                        group.addTask { .finished(twin, await twin.outcome()) }
                    }
                    group.addTask { await self.watch(race, hedgeAt: nil) }
                case .watchEnded:
                    continue
                }
            }
            return round.result ?? .failure(Self.cancelled, endpoints: round.failedEndpoints, stalled: false)
        }
    }

    private func startAttempt(_ index: Int, on endpoint: Int, _ plan: RoundPlan, _ race: Race) -> Attempt {
        let health = healths[endpoint]
        let attempt = Attempt(
            index: index, endpoint: endpoint, health: health, stallLimit: stallLimit(on: endpoint, plan),
            now: timing.now)
        race.add(attempt)
        attempt.start { attempt in await plan.body(attempt, race) }
        return attempt
    }

    /// How long an attempt on `endpoint` may go without progress before it is called off. Only worth doing
    /// early when another endpoint is in service to continue on: with none (one endpoint, or every other one
    /// down) an attempt on a slow but working endpoint is left alone, curl's --stall-timeout being its bound,
    /// except that none outlives the operation's retry budget by more than the stall floor.
    /// Writes are not watched here: an upload shows no progress the pool could see until it is answered, and a
    /// 5 GiB part or copy legitimately takes minutes; curl's low-speed limit (--stall-timeout) bounds them.
    private func stallLimit(on endpoint: Int, _ plan: RoundPlan) -> Double {
        if plan.kind == .write { return .infinity }
        let hasAlternative = healths.indices.contains { $0 != endpoint && healths[$0].breaker != .open }
        var limit = Double.infinity
        if hasAlternative {
            let p99 = healths[endpoint].latencyQuantile(0.99, of: plan.kind) ?? 0
            limit = max(config.stallFloor, config.stallLatencyMultiple * p99)
            if plan.kind == .get { limit = max(config.stallFloor, min(config.getStallCeiling, limit)) }
            limit *= plan.stallScale
        }
        if let deadline = plan.retryDeadline { limit = min(limit, max(config.stallFloor, deadline - timing.now())) }
        return limit
    }

    private func startTwin(of primary: Attempt, _ plan: RoundPlan, _ race: Race) -> Attempt? {
        guard race.winner == nil else { return nil }
        let tried = plan.excluded.union([primary.endpoint])
        guard let endpoint = selector.pick(healths, excluding: tried, now: timing.now(), uniform: timing.uniform),
            !tried.contains(endpoint),
            HedgeBudget.isWorthATwin(primary: healths[primary.endpoint].latency, twin: healths[endpoint].latency),
            hedging.take()
        else { return nil }
        metrics.hedges.increment()
        return startAttempt(1, on: endpoint, plan, race)
    }

    /// Records one attempt's outcome; true when the round is decided (the other attempts are then called off).
    private func settle(
        _ attempt: Attempt, _ outcome: Result<AttemptValue, ObjectStoreError>, _ kind: OperationKind, _ race: Race,
        _ round: inout RoundState
    ) -> Bool {
        let health = attempt.health
        record(attempt, outcome, kind)
        switch outcome {
        case .success(let value):
            let now = timing.now()
            let latency = kind == .get || kind == .write ? nil : now - attempt.started
            report(health.succeeded(kind, latency: latency, now: now), endpoint: attempt.endpoint, error: nil)
            guard round.result == nil, race.claim(attempt.index) else { return false }
            if attempt.index > 0 {
                hedging.noteWin()
                metrics.hedgeWins.increment()
            }
            round.result = .success(value)
            return true
        case .failure(let error):
            if Task.isCancelled || attempt.callOffReason == .lostRace {
                health.abandoned(lostRace: attempt.callOffReason == .lostRace, now: timing.now())
                return false
            }
            var failure = error
            if case .stalled(let limit) = attempt.callOffReason {
                failure = .client(ClientError(kind: .timedOut, detail: "no progress for \(limit) s; abandoned"))
            }
            let disposition = RetryPolicy.disposition(of: failure)
            report(health.failed(disposition, now: timing.now()), endpoint: attempt.endpoint, error: failure)
            round.failedEndpoints.insert(attempt.endpoint)
            let owner = race.winner
            let decided = (disposition == .final && (owner == nil || owner == attempt.index))
                || owner == attempt.index || round.pending == 0
            guard decided, round.result == nil else { return false }
            round.result = .failure(
                failure, endpoints: round.failedEndpoints, stalled: attempt.callOffReason != nil)
            return true
        }
    }

    /// Counts one attempt's outcome and duration in the exported metrics.
    private func record(_ attempt: Attempt, _ outcome: Result<AttemptValue, ObjectStoreError>, _ kind: OperationKind) {
        let seconds = timing.now() - attempt.started
        switch outcome {
        case .success:
            metrics.attempt(on: attempt.endpoint, kind, ended: .success, after: seconds)
        case .failure where attempt.callOffReason == .lostRace || Task.isCancelled:
            metrics.attempt(on: attempt.endpoint, kind, ended: .cancelled, after: seconds)
        case .failure(let error):
            metrics.attempt(on: attempt.endpoint, kind, ended: PoolMetrics.Outcome(error), after: seconds)
            if case .service(let service) = error, service.kind == .throttled { metrics.throttled(on: attempt.endpoint) }
        }
    }

    /// Sleeps until the next stall deadline or the hedging time, and says which came; ends when nothing is left
    /// to watch or the round is over.
    private func watch(_ race: Race, hedgeAt: Double?) async -> RoundEvent {
        while true {
            let now = timing.now()
            var next = Double.infinity
            for attempt in race.attempts {
                guard let deadline = attempt.stallDeadline else { continue }
                if now >= deadline { return .stalled(attempt) }
                next = min(next, deadline)
            }
            if let hedgeAt, race.winner == nil {
                if now >= hedgeAt { return .hedgeDue }
                next = min(next, hedgeAt)
            }
            guard next < .infinity else { return .watchEnded }
            do {
                try await timing.sleep(next - now)
            } catch {
                return .watchEnded
            }
        }
    }
}
