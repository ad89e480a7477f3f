// AIMD concurrency limit of one endpoint: throttling (503 SlowDown, 429) halves it, successes grow it back by one
// per window of `limit` successes, as TCP's congestion window does.

/// How many requests the pool lets one endpoint have in flight. Lives inside EndpointHealth's lock.
struct ConcurrencyLimit: Sendable {
    let maximum: Double
    /// Throttling answers arriving within this many seconds of a decrease are one episode: one halving.
    let decreaseSpacing: Double
    private(set) var value: Double
    private var lastDecrease = -Double.infinity

    init(maximum: Int, decreaseSpacing: Double = 0.1) {
        self.maximum = Double(max(1, maximum))
        self.decreaseSpacing = decreaseSpacing
        value = self.maximum
    }

    /// Requests allowed in flight now (at least one).
    var allowed: Int { max(1, Int(value)) }

    mutating func recordSuccess() {
        value = min(maximum, value + 1 / value)
    }

    mutating func recordThrottled(now: Double) {
        guard now - lastDecrease >= decreaseSpacing else { return }
        lastDecrease = now
        value = max(1, value / 2)
    }
}
