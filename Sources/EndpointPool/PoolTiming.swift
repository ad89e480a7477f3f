// Time and chance for the pool, injected so tests decide them.

/// The pool's clock, sleep and random source. `live` is the real thing; tests pass their own.
public struct PoolTiming: Sendable {
    /// Monotonic seconds.
    public var now: @Sendable () -> Double
    /// Sleeps for the given seconds; throws when the task is cancelled.
    public var sleep: @Sendable (Double) async throws -> Void
    /// A uniform random number in 0..<1 (backoff jitter, balanced-policy exploration).
    public var uniform: @Sendable () -> Double

    public init(
        now: @escaping @Sendable () -> Double, sleep: @escaping @Sendable (Double) async throws -> Void,
        uniform: @escaping @Sendable () -> Double
    ) {
        self.now = now
        self.sleep = sleep
        self.uniform = uniform
    }

    public static let live: PoolTiming = {
        let clock = ContinuousClock()
        let origin = clock.now
        return PoolTiming(
            now: { (clock.now - origin) / .seconds(1) },
            sleep: { seconds in try await Task.sleep(for: .seconds(max(0, seconds))) },
            uniform: { Double.random(in: 0..<1) })
    }()
}
