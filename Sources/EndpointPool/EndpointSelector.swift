// EndpointSelector: the policies, as a choice of one endpoint for the next request.
//
// Candidates in order of preference: endpoints under their concurrency limit and half-open endpoints awaiting a
// trial; then endpoints at their limit (the limit is soft: with every endpoint full, the least loaded takes the
// request); then endpoints this operation already failed on (a retry returns to them only when nothing else is
// up). Open endpoints are never chosen. Within a tier:
//   failover  the first in the order given;
//   balanced  a half-open endpoint first, so it is tried soon; else the lowest (requests in flight + 1) ×
//             latency, where latencies within twice the fastest count as the fastest (gateways of one cluster
//             differ by noise; without this the marginally faster one takes every request at low load and a
//             recovered gateway never gets its share back), ties broken at random. One request in
//             `explorationOdds` goes to a random candidate so a slow endpoint that became fast again is noticed;
//             to a candidate more than twice as slow as the fastest, one in `slowExplorationOdds` (exploring is
//             a real request: at 1/64 a +50 ms endpoint would own the p99).

struct EndpointSelector: Sendable {
    let policy: EndpointPolicy
    var explorationOdds = 64.0
    var slowExplorationOdds = 512.0
    /// Latency assumed for an endpoint without samples, and the least any counts as (seconds).
    var minimumLatency = 0.0002

    private struct Candidate {
        let index: Int
        var tier: Int
        let outstanding: Int
        let latency: Double
        let isTrial: Bool
    }

    /// The endpoint for the next request, or nil when every endpoint is down.
    func pick(
        _ endpoints: [EndpointHealth], excluding excluded: Set<Int>, now: Double, uniform: () -> Double
    ) -> Int? {
        var candidates: [Candidate] = []
        for (index, health) in endpoints.enumerated() {
            guard var candidate = candidate(index, health.availability(now: now)) else { continue }
            if excluded.contains(index) { candidate.tier += 2 }
            candidates.append(candidate)
        }
        guard let topTier = candidates.map(\.tier).min() else { return nil }
        let top = candidates.filter { $0.tier == topTier }
        guard policy == .balanced else { return top[0].index }
        if let trial = top.first(where: \.isTrial) { return trial.index }
        let fastest = top.map(\.latency).min() ?? minimumLatency
        if topTier == 0, top.count > 1, uniform() * explorationOdds < 1 {
            let candidate = top[choose(top.count, uniform)]
            if candidate.latency <= 2 * fastest || uniform() * slowExplorationOdds < explorationOdds {
                return candidate.index
            }
        }
        let scores = top.map { Double($0.outstanding + 1) * ($0.latency <= 2 * fastest ? fastest : $0.latency) }
        let lowest = scores.min() ?? 0
        let tied = top.indices.filter { scores[$0] <= lowest * (1 + 1e-9) }
        return top[tied.count == 1 ? tied[0] : tied[choose(tied.count, uniform)]].index
    }

    private func choose(_ count: Int, _ uniform: () -> Double) -> Int {
        min(count - 1, Int(uniform() * Double(count)))
    }

    private func candidate(_ index: Int, _ availability: Availability) -> Candidate? {
        switch availability {
        case .down:
            return nil
        case .trial:
            return Candidate(index: index, tier: 0, outstanding: 0, latency: minimumLatency, isTrial: true)
        case .ready(let outstanding, let allowed, let latency):
            return Candidate(
                index: index, tier: outstanding < allowed ? 0 : 1, outstanding: outstanding,
                latency: max(latency ?? 0, minimumLatency), isTrial: false)
        }
    }
}
