@testable import EndpointPool
import ObjectStore
import Testing

@Suite struct EndpointHealthTests {
    let settings = EndpointHealth.Settings(failureThreshold: 3, probeInterval: 1, maxProbeInterval: 4, maxConcurrency: 32)

    private func fault(_ health: EndpointHealth, at now: Double) -> HealthTransition? {
        health.begin()
        return health.failed(.endpointFault, now: now)
    }

    @Test func breakerOpensAfterThreeFaultsInARowAndProbesWithBackoff() {
        let health = EndpointHealth(settings: settings)
        #expect(fault(health, at: 0) == nil)
        #expect(fault(health, at: 0) == nil)
        #expect(fault(health, at: 0) == .wentDown)
        #expect(health.breaker == .open)
        #expect(health.availability(now: 0) == .down)
        #expect(!health.probeDue(now: 0.9))
        #expect(health.probeDue(now: 1.0))
        health.probed(answered: false, now: 1)
        #expect(!health.probeDue(now: 2.9))
        #expect(health.probeDue(now: 3.0))
        health.probed(answered: false, now: 3)
        health.probed(answered: false, now: 7)
        #expect(health.probeDue(now: 11))  // capped at 4 s
    }

    @Test func aSuccessInBetweenResetsTheCount() {
        let health = EndpointHealth(settings: settings)
        _ = fault(health, at: 0)
        _ = fault(health, at: 0)
        health.begin()
        #expect(health.succeeded(.head, latency: 0.001, now: 0) == nil)
        #expect(fault(health, at: 0) == nil)
        #expect(health.breaker == .closed)
    }

    @Test func halfOpenLetsOneTrialThroughThenCloses() {
        let health = EndpointHealth(settings: settings)
        for _ in 0..<3 { _ = fault(health, at: 0) }
        health.probed(answered: true, now: 1)
        #expect(health.breaker == .halfOpen)
        #expect(health.availability(now: 0) == .trial)
        health.begin()
        #expect(health.availability(now: 0) == .down)  // the trial is in flight
        #expect(health.succeeded(.get, latency: nil, now: 0) == .cameBack)
        #expect(health.breaker == .closed)
    }

    @Test func aFailedTrialReopens() {
        let health = EndpointHealth(settings: settings)
        for _ in 0..<3 { _ = fault(health, at: 0) }
        health.probed(answered: true, now: 1)
        #expect(fault(health, at: 1) == nil)
        #expect(health.breaker == .open)
        #expect(!health.probeDue(now: 1.5))
        #expect(health.probeDue(now: 2))
    }

    @Test func throttlingHalvesTheLimitOncePerEpisodeAndSuccessesGrowItBack() {
        var limit = ConcurrencyLimit(maximum: 32, decreaseSpacing: 0.1)
        limit.recordThrottled(now: 0)
        #expect(limit.current == 16)
        limit.recordThrottled(now: 0.05)
        #expect(limit.current == 16)
        limit.recordThrottled(now: 0.2)
        #expect(limit.current == 8)
        for _ in 0..<9 { limit.recordSuccess() }  // about one window of 8 successes: +1
        #expect(limit.current == 9)
        for _ in 0..<1000 { limit.recordSuccess() }
        #expect(limit.current == 32)
        for step in 0..<10 { limit.recordThrottled(now: Double(step)) }
        #expect(limit.current == 1)
    }

    @Test func throttlingPushesTheEndpointBackLongerWithEachEpisodeUntilASuccess() {
        var limit = ConcurrencyLimit(maximum: 32, decreaseSpacing: 0.1, initialPushback: 0.1, maxPushback: 0.4)
        limit.recordThrottled(now: 10)
        #expect(limit.allowed(now: 10.05) == 0)
        #expect(limit.allowed(now: 10.1) == 16)
        limit.recordThrottled(now: 10.2)  // the next episode in a row: 0.2 s
        #expect(limit.allowed(now: 10.35) == 0)
        #expect(limit.allowed(now: 10.4) == 8)
        limit.recordThrottled(now: 11)
        limit.recordThrottled(now: 12)  // capped at 0.4 s
        #expect(limit.allowed(now: 12.39) == 0)
        #expect(limit.allowed(now: 12.4) == 2)
        limit.recordSuccess()
        limit.recordThrottled(now: 13)  // a success in between: back to 0.1 s
        #expect(limit.allowed(now: 13.1) == 1)
    }

    @Test func aPushedBackEndpointGetsRequestsOnlyWhenEveryOtherIsFull() {
        let selector = EndpointSelector(policy: .balanced, explorationOdds: .infinity)
        let throttled = EndpointHealth(settings: settings)
        let other = EndpointHealth(settings: settings)
        for health in [throttled, other] {
            health.begin()
            _ = health.succeeded(.get, latency: 0.01, now: 0)
        }
        throttled.begin()
        _ = throttled.failed(.throttled, now: 5)
        #expect(selector.pick([throttled, other], excluding: [], now: 5.01, uniform: { 0.5 }) == 1)
        for _ in 0..<32 { other.begin() }  // the other endpoint is at its limit
        #expect(selector.pick([throttled, other], excluding: [], now: 5.01, uniform: { 0.5 }) == 0)
    }

    @Test func throttlingNeverOpensTheBreaker() {
        let health = EndpointHealth(settings: settings)
        for step in 0..<10 {
            health.begin()
            #expect(health.failed(.throttled, now: Double(step)) == nil)
        }
        #expect(health.breaker == .closed)
        #expect(health.snapshot(endpoint: "e").concurrencyLimit == 1)
    }
}
