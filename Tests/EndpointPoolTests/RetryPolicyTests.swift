import EndpointPool
import ObjectStore
import Testing

@Suite struct RetryPolicyTests {
    @Test func backoffIsFullJitterUnderAnExponentialCeiling() {
        let policy = RetryPolicy(maxAttempts: 8, budget: 10, baseDelay: 0.02, maxDelay: 1)
        for failures in 1...12 {
            let ceiling = min(1, 0.02 * Double(1 << (failures - 1)))
            #expect(policy.backoff(afterFailures: failures, uniform: 0) == 0)
            #expect(abs(policy.backoff(afterFailures: failures, uniform: 0.999_999) - ceiling) < 1e-5)
            #expect(policy.backoff(afterFailures: failures, uniform: 0.5) == ceiling / 2)
        }
    }

    @Test func attemptsStopAtTheCountOrTheBudget() {
        let policy = RetryPolicy(maxAttempts: 4, budget: 10)
        #expect(policy.allowsAttempt(afterFailures: 0, firstFailure: nil, now: 100))
        #expect(policy.allowsAttempt(afterFailures: 3, firstFailure: 100, now: 109.9))
        #expect(!policy.allowsAttempt(afterFailures: 4, firstFailure: 100, now: 100))
        #expect(!policy.allowsAttempt(afterFailures: 1, firstFailure: 100, now: 110))
    }

    @Test func onlyTheEndpointsFaultsAreRetried() {
        for (kind, status) in [(ServiceError.Kind.accessDenied, 403), (.noSuchKey, 404), (.preconditionFailed, 412),
                               (.invalidRange, 416), (.noSuchBucket, 404), (.other, 400)] {
            #expect(RetryPolicy.disposition(of: serviceError(kind, status, "X")) == .final)
        }
        #expect(RetryPolicy.disposition(of: serviceError(.throttled, 503, "SlowDown")) == .throttled)
        #expect(RetryPolicy.disposition(of: serviceError(.serverError, 500, "InternalError")) == .endpointFault)
        for kind in [ClientError.Kind.connectionRefused, .connectionReset, .timedOut, .truncatedBody, .malformedResponse] {
            #expect(RetryPolicy.disposition(of: .client(ClientError(kind: kind, detail: ""))) == .endpointFault)
        }
    }
}
