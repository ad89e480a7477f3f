import Foundation
import Synchronization

/// Holds readers to `bytesPerSecond` together: each reader reports what it read and sleeps off any excess.
final class ByteRateLimiter: Sendable {
    let bytesPerSecond: Double
    /// When the bytes granted so far will have been earned at the rate.
    private let earnedAt = Mutex<ContinuousClock.Instant?>(nil)

    init(bytesPerSecond: Double) {
        self.bytesPerSecond = bytesPerSecond
    }

    /// Counts `bytes` read and sleeps until they are within the rate, or `stopped` says to give up.
    func take(_ bytes: Int, unless stopped: () -> Bool) {
        let now = ContinuousClock.now
        let wait = earnedAt.withLock { earnedAt -> Duration in
            // Idle time earns at most a second's worth of credit.
            let start = max(earnedAt ?? now, now - .seconds(1))
            let end = start + .nanoseconds(Int64(Double(bytes) / bytesPerSecond * 1e9))
            earnedAt = end
            return end - now
        }
        let until = now + wait
        while ContinuousClock.now < until, !stopped() {
            Thread.sleep(forTimeInterval: 0.05)
        }
    }
}
