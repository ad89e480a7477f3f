// EndpointSelector: the policies, as a choice of one endpoint for the next request.
//
// Candidates in order of preference: endpoints under their concurrency limit and half-open endpoints awaiting a
// trial; then endpoints at their limit (the limit is soft: with every endpoint full, the least loaded takes the
// request); then endpoints this operation already failed on (a retry returns to them only when nothing else is
// up). Open endpoints are never chosen. Within a tier:
//   failover  the first in the order given;
//   balanced  the lowest (requests in flight + 1) × latency EWMA; a half-open endpoint first, so it is tried
//             soon; and one request in `explorationOdds` goes to a random candidate so a slow endpoint that became
//             fast again is noticed.

struct EndpointSelector: Sendable {
    let policy: EndpointPolicy
    var explorationOdds = 64.0
    /// Latency assumed for an endpoint without samples, and the least any counts as (seconds).
    var minimumLatency = 0.0002

    /// The endpoint for the next request, or nil when every endpoint is down.
    func pick(_ endpoints: [EndpointHealth], excluding excluded: Set<Int>, uniform: () -> Double) -> Int? {
        var best: (tier: Int, score: Double, index: Int)?
        var firstTier: [Int] = []
        for (index, health) in endpoints.enumerated() {
            guard let (rankTier, score) = rank(health.availability, index: index) else { continue }
            let tier = excluded.contains(index) ? rankTier + 2 : rankTier
            if tier == 0 { firstTier.append(index) }
            if best.map({ (tier, score) < ($0.tier, $0.score) }) ?? true { best = (tier, score, index) }
        }
        if policy == .balanced, firstTier.count > 1, uniform() * explorationOdds < 1 {
            return firstTier[min(firstTier.count - 1, Int(uniform() * Double(firstTier.count)))]
        }
        return best?.index
    }

    private func rank(_ availability: Availability, index: Int) -> (Int, Double)? {
        switch availability {
        case .down:
            return nil
        case .trial:
            return (0, policy == .failover ? Double(index) : -1)
        case .ready(let outstanding, let allowed, let latency):
            let tier = outstanding < allowed ? 0 : 1
            switch policy {
            case .failover: return (tier, Double(index))
            case .balanced: return (tier, Double(outstanding + 1) * max(latency ?? 0, minimumLatency))
            }
        }
    }
}
