// AIMD concurrency limit of one endpoint: throttling (503 SlowDown, 429) halves it, successes grow it back by one
// per window of `limit` successes, as TCP's congestion window does.
// A limit on requests in flight does nothing against an endpoint that answers 503 at once (it never has a request
// in flight), so each throttling episode also pushes the endpoint back: for `pushback` seconds it takes requests
// only when every endpoint is at its limit. The pushback starts at `initialPushback`, doubles with each episode
// in a row up to `maxPushback`, and a success resets it: a burst of 503s costs the endpoint a handful of requests.

/// How many requests the pool lets one endpoint have in flight. Lives inside EndpointHealth's lock.
struct ConcurrencyLimit: Sendable {
    let maximum: Double
    /// Throttling answers arriving within this many seconds of a decrease are one episode: one halving.
    let decreaseSpacing: Double
    let initialPushback: Double
    let maxPushback: Double
    private(set) var value: Double
    private var lastDecrease = -Double.infinity
    private var pushback = 0.0
    private var pushedBackUntil = -Double.infinity

    init(maximum: Int, decreaseSpacing: Double = 0.1, initialPushback: Double = 0.1, maxPushback: Double = 5) {
        self.maximum = Double(max(1, maximum))
        self.decreaseSpacing = decreaseSpacing
        self.initialPushback = initialPushback
        self.maxPushback = maxPushback
        value = self.maximum
    }

    /// Requests allowed in flight now: at least one, none while pushed back.
    func allowed(now: Double) -> Int { now < pushedBackUntil ? 0 : max(1, Int(value)) }

    /// The limit itself, for snapshots.
    var current: Int { max(1, Int(value)) }

    mutating func recordSuccess() {
        value = min(maximum, value + 1 / value)
        pushback = 0
    }

    mutating func recordThrottled(now: Double) {
        guard now - lastDecrease >= decreaseSpacing else { return }
        lastDecrease = now
        value = max(1, value / 2)
        pushback = pushback == 0 ? initialPushback : min(maxPushback, pushback * 2)
        pushedBackUntil = now + pushback
    }
}
