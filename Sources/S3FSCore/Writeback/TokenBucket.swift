// TokenBucket: --upload-bandwidth. Each upload request takes its size in tokens before it starts; tokens refill
// at `rate` bytes per second up to one part's worth, so the long-run rate holds and bursts stay one part long.
// A request larger than the bucket waits until the bucket is full and then takes it into debt.
import Synchronization

final class TokenBucket: Sendable {
    private struct State {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let rate: Double
    let capacity: Double
    private let state: Mutex<State>

    init(bytesPerSecond: UInt64, capacity: UInt64) {
        rate = Double(max(bytesPerSecond, 1))
        self.capacity = Double(max(capacity, 1))
        state = Mutex(State(tokens: self.capacity, updated: .now))
    }

    /// Waits until `bytes` may be sent. Throws CancellationError when the task is cancelled while waiting.
    func take(_ bytes: UInt64) async throws {
        let wanted = min(Double(bytes), capacity)
        while true {
            let wait: Double = state.withLock { state in
                let now = ContinuousClock.now
                let elapsed = Double((now - state.updated) / .milliseconds(1)) / 1000
                state.tokens = min(capacity, state.tokens + elapsed * rate)
                state.updated = now
                if state.tokens >= wanted {
                    state.tokens -= Double(bytes)
                    return 0
                }
                return (wanted - state.tokens) / rate
            }
            if wait == 0 { return }
            try await Task.sleep(for: .milliseconds(Int64(wait * 1000) + 1))
        }
    }
}
