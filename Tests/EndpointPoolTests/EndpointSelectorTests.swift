@testable import EndpointPool
import Testing

@Suite struct EndpointSelectorTests {
    let settings = EndpointHealth.Settings(failureThreshold: 3, probeInterval: 1, maxProbeInterval: 4, maxConcurrency: 32)

    func endpoint(latency: Double) -> EndpointHealth {
        let health = EndpointHealth(settings: settings)
        health.begin()
        _ = health.succeeded(.head, latency: latency, now: 0)
        return health
    }

    /// A uniform source that returns the given values in turn.
    func sequence(_ values: [Double]) -> () -> Double {
        var rest = values[...]
        return { rest.popFirst() ?? 0.5 }
    }

    @Test func balancedPrefersTheFastestIdleEndpoint() {
        let selector = EndpointSelector(policy: .balanced)
        let endpoints = [endpoint(latency: 0.055), endpoint(latency: 0.005)]
        #expect(selector.pick(endpoints, excluding: [], now: 0, uniform: sequence([0.5])) == 1)
    }

    @Test func comparableEndpointsShareByRequestsInFlightTiesAtRandom() {
        let selector = EndpointSelector(policy: .balanced, explorationOdds: .infinity)
        let endpoints = [endpoint(latency: 0.0028), endpoint(latency: 0.0037)]
        #expect(selector.pick(endpoints, excluding: [], now: 0, uniform: { 0.2 }) == 0)
        #expect(selector.pick(endpoints, excluding: [], now: 0, uniform: { 0.7 }) == 1)
        endpoints[0].begin()  // one request in flight: the other is the least loaded
        #expect(selector.pick(endpoints, excluding: [], now: 0, uniform: { 0.2 }) == 1)
    }

    @Test func explorationReachesAComparableEndpointOneTimeIn64() {
        let selector = EndpointSelector(policy: .balanced)
        let endpoints = [endpoint(latency: 0.005), endpoint(latency: 0.008)]
        // 0.01 × 64 < 1: explore; 0.9 picks the second candidate; 0.5 would refuse a slow one, not this one
        #expect(selector.pick(endpoints, excluding: [], now: 0, uniform: sequence([0.01, 0.9, 0.5])) == 1)
    }

    @Test func anEndpointMoreThanTwiceAsSlowIsExploredOneTimeIn512() {
        let selector = EndpointSelector(policy: .balanced)
        let endpoints = [endpoint(latency: 0.005), endpoint(latency: 0.055)]
        #expect(selector.pick(endpoints, excluding: [], now: 0, uniform: sequence([0.01, 0.9, 0.5])) == 0)
        // 0.1 × 512 < 64: the one exploration in eight that goes to the slow endpoint
        #expect(selector.pick(endpoints, excluding: [], now: 0, uniform: sequence([0.01, 0.9, 0.1])) == 1)
    }

    @Test func anEndpointThatLookedSlowIsTriedAgainAfterASilenceAndItsNewSampleCounts() {
        let selector = EndpointSelector(policy: .balanced, explorationOdds: .infinity)
        let fast = EndpointHealth(settings: settings)
        let recovered = EndpointHealth(settings: settings)
        recovered.begin()
        _ = recovered.succeeded(.head, latency: 0.05, now: 0)  // a cold gateway's first answer
        for step in 0..<40 {  // the other endpoint answers all along
            fast.begin()
            _ = fast.succeeded(.head, latency: 0.004, now: Double(step) * 0.1)
        }
        #expect(selector.pick([fast, recovered], excluding: [], now: 1, uniform: { 0.5 }) == 0)
        // 4 s later its 50 ms counts as 50 × 2^-3 = 6.25 ms, within twice the other's 4 ms: with one request in
        // flight at the other, it is the least loaded
        fast.begin()
        #expect(selector.pick([fast, recovered], excluding: [], now: 4, uniform: { 0.5 }) == 1)
        // while that one request is in flight, the estimate is not decayed: the next request goes to the other
        recovered.begin()
        #expect(selector.pick([fast, recovered], excluding: [], now: 4, uniform: { 0.5 }) == 0)
        // and its answer after the silence nearly replaces the stale estimate (weight 1 - e^-4)
        _ = recovered.succeeded(.head, latency: 0.004, now: 4)
        #expect(recovered.latency! < 0.005)
    }

    @Test func aSlowEndpointWhoseRequestsLoseTheirRacesIsNotRetriedSooner() {
        let selector = EndpointSelector(policy: .balanced, explorationOdds: .infinity)
        let fast = endpoint(latency: 0.004)
        let slow = endpoint(latency: 0.055)
        fast.begin()  // one request in flight at the fast endpoint
        // 4.5 s of silence: 55 ms decays below 2 × 4 ms and the slow endpoint gets a request
        #expect(selector.pick([fast, slow], excluding: [], now: 4.5, uniform: { 0.5 }) == 1)
        slow.begin()
        slow.abandoned(lostRace: true, now: 4.51)  // its twin on the fast endpoint answered first
        #expect(selector.pick([fast, slow], excluding: [], now: 4.52, uniform: { 0.5 }) == 0)
    }
}
