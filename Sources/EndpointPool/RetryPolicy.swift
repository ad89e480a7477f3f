// RetryPolicy: which failures are retried (on another endpoint when there is one) and for how long.
//
// Bounds: at most `maxAttempts` requests per operation, and no attempt starts later than `budget` seconds after
// the operation's first failure. Between attempts the pool sleeps a full-jitter exponential backoff,
// uniform(0, min(maxDelay, baseDelay · 2^(failures-1))) (AWS architecture blog, "Exponential Backoff and Jitter"),
// so the sleeps alone add at most about `budget`; an attempt started after the first failure has its stall limit
// cut to what is left of the budget (but not below the stall floor). With every endpoint down an operation
// therefore fails within its first attempt's stall limit + `budget` + the stall floor.

import ObjectStore

public struct RetryPolicy: Sendable, Hashable {
    public var maxAttempts: Int
    /// Seconds after the first failure during which new attempts may start.
    public var budget: Double
    public var baseDelay: Double
    public var maxDelay: Double

    public init(maxAttempts: Int = 8, budget: Double = 10, baseDelay: Double = 0.02, maxDelay: Double = 1) {
        self.maxAttempts = maxAttempts
        self.budget = budget
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// What a failure means for the pool.
    public enum Disposition: Sendable, Hashable {
        /// The answer is the same from every endpoint (403, 404, 412, 416, other 4xx): return it at once.
        case final
        /// The endpoint is at fault (refused, reset, timeout, stall, 5xx, truncated or garbled answer).
        case endpointFault
        /// The endpoint is alive but overloaded (503 SlowDown, 429): lower its concurrency, retry elsewhere.
        case throttled
    }

    public static func disposition(of error: ObjectStoreError) -> Disposition {
        switch error {
        case .client:
            return .endpointFault
        case .service(let service):
            switch service.kind {
            case .throttled: return .throttled
            case .serverError: return .endpointFault
            case .noSuchKey, .noSuchBucket, .noSuchUpload, .accessDenied, .preconditionFailed, .invalidRange, .other:
                return .final
            }
        }
    }

    /// The sleep before the next attempt after `failures` failures (≥ 1); `uniform` is in 0..<1.
    public func backoff(afterFailures failures: Int, uniform: Double) -> Double {
        let ceiling = min(maxDelay, baseDelay * Double(1 << min(max(failures - 1, 0), 30)))
        return ceiling * uniform
    }

    /// Whether another attempt may start: `failures` so far, the first of them at `firstFailure`.
    public func allowsAttempt(afterFailures failures: Int, firstFailure: Double?, now: Double) -> Bool {
        guard failures < maxAttempts else { return false }
        guard let firstFailure else { return true }
        return now - firstFailure < budget
    }
}
