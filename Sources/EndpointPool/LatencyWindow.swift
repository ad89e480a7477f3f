// The last few hundred latencies of one kind of request on one endpoint, for the quantiles that set the hedging
// threshold and the adaptive stall limit.

/// A ring of recent latency samples (seconds). Quantiles are computed from a sorted copy that is refreshed only
/// after new samples arrived, so asking twice between samples costs nothing.
struct LatencyWindow: Sendable {
    /// Fewer samples than this give no quantile: too little to tell the tail from noise.
    static let minimumSamples = 20

    private let capacity: Int
    private var samples: [Double] = []
    private var next = 0
    private var sorted: [Double]?

    init(capacity: Int = 256) {
        self.capacity = capacity
        samples.reserveCapacity(capacity)
    }

    var count: Int { samples.count }

    mutating func add(_ seconds: Double) {
        if samples.count < capacity {
            samples.append(seconds)
        } else {
            samples[next] = seconds
        }
        next = (next + 1) % capacity
        sorted = nil
    }

    /// The `q` quantile (0...1) of the window, or nil with fewer than `minimumSamples` samples.
    mutating func quantile(_ q: Double) -> Double? {
        guard samples.count >= Self.minimumSamples else { return nil }
        let ordered = sorted ?? samples.sorted()
        sorted = ordered
        let index = min(ordered.count - 1, Int((Double(ordered.count) * q).rounded(.up)) - 1)
        return ordered[max(0, index)]
    }

    mutating func removeAll() {
        samples.removeAll(keepingCapacity: true)
        next = 0
        sorted = nil
    }
}
