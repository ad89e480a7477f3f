// The refresh rule of RefreshingCredentials, on a clock the test moves: nothing before the margin, a background
// refresh inside it, waiting past the expiry, backoff and old credentials on failure, one refresh at a time.

import Foundation
import Logging
import Synchronization
import Testing

@testable import S3HTTP

struct RefreshingCredentialsTests {
    final class Clock: Sendable {
        let seconds = Mutex<Double>(1000)
        func now() -> Double { seconds.withLock { $0 } }
        func set(_ value: Double) { seconds.withLock { $0 = value } }
    }

    /// Hands out "AK1", "AK2", … each living `lifetime` seconds from the clock's now; fails while `failing`.
    final class Source: CredentialProvider {
        let clock: Clock
        let lifetime: Double
        let delay: Duration
        let state = Mutex<(fetches: Int, failing: Bool)>((0, false))

        init(clock: Clock, lifetime: Double = 20, delay: Duration = .zero) {
            self.clock = clock
            self.lifetime = lifetime
            self.delay = delay
        }

        var source: String { "test source" }
        var refreshable: Bool { true }
        var fetches: Int { state.withLock { $0.fetches } }
        func fail(_ failing: Bool) { state.withLock { $0.failing = failing } }

        func fetch() async throws(CredentialError) -> S3Credentials {
            if delay > .zero { try? await Task.sleep(for: delay) }
            let (count, failing) = state.withLock { state in
                state.fetches += 1
                return (state.fetches, state.failing)
            }
            if failing { throw CredentialError(description: "test source is down") }
            return S3Credentials(
                accessKeyID: "AK\(count)", secretAccessKey: "S\(count)", sessionToken: "T\(count)",
                expiration: clock.now() + lifetime)
        }
    }

    static func start(_ source: Source) async throws -> RefreshingCredentials {
        let clock = source.clock
        return try await RefreshingCredentials.start(source, logger: Logger(label: "test"), clock: { clock.now() })
    }

    /// A bound for a hung test, not a timing: the parallel suite on 2 busy cores can starve tasks for seconds.
    static let patience = Duration.seconds(60)

    /// Polls `cache` until it hands out `accessKeyID` (a background refresh landing), for at most `patience`.
    static func waitFor(_ accessKeyID: String, in cache: RefreshingCredentials) async throws -> Bool {
        let deadline = ContinuousClock.now + patience
        while ContinuousClock.now < deadline {
            if try await cache.current().accessKeyID == accessKeyID { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    /// Polls until `cache` has failed `count` refreshes in a row, for at most `patience`.
    static func waitForFailures(_ count: Int, in cache: RefreshingCredentials) async throws -> Bool {
        let deadline = ContinuousClock.now + patience
        while cache.failureStreak < count {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    @Test func marginIsAQuarterOfTheLifetimeAtMostFiveMinutes() {
        #expect(RefreshingCredentials.refreshMargin(lifetime: 3600) == 300)
        #expect(RefreshingCredentials.refreshMargin(lifetime: 900) == 225)
        #expect(RefreshingCredentials.refreshMargin(lifetime: 20) == 5)
        #expect(RefreshingCredentials.refreshMargin(lifetime: -1) == 0)
    }

    @Test func refreshesInTheBackgroundInsideTheMargin() async throws {
        let clock = Clock()
        let source = Source(clock: clock)
        let cache = try await Self.start(source)
        clock.set(1014.9)  // 5.1 s left of 20: outside the margin
        #expect(try await cache.current().accessKeyID == "AK1")
        #expect(source.fetches == 1)
        clock.set(1016)  // 4 s left: the current credentials still serve while the refresh runs
        #expect(try await cache.current().accessKeyID == "AK1")
        #expect(try await Self.waitFor("AK2", in: cache))
        #expect(source.fetches == 2)
    }

    @Test func pastTheExpiryRequestsWaitForTheRefresh() async throws {
        let clock = Clock()
        let source = Source(clock: clock, delay: .milliseconds(20))
        let cache = try await Self.start(source)
        clock.set(1030)
        #expect(try await cache.current().accessKeyID == "AK2")
    }

    @Test func failuresBackOffAndKeepTheOldCredentialsUntilTheyExpire() async throws {
        let clock = Clock()
        let source = Source(clock: clock)
        let cache = try await Self.start(source)
        source.fail(true)
        clock.set(1016)
        #expect(try await cache.current().accessKeyID == "AK1")
        // Wait for the failed attempt to be over, then ask again at once: the backoff (1 s) holds a new attempt.
        #expect(try await Self.waitForFailures(1, in: cache))
        #expect(try await cache.current().accessKeyID == "AK1")
        #expect(source.fetches == 2)
        clock.set(1017.5)  // past the backoff: one more attempt, still failing, still AK1
        #expect(try await cache.current().accessKeyID == "AK1")
        #expect(try await Self.waitForFailures(2, in: cache))
        #expect(source.fetches == 3)
        clock.set(1021)  // expired, and the source is still down: access denied, with the source's reason
        await #expect(throws: CredentialError(description: "test source is down")) { try await cache.current() }
        source.fail(false)
        clock.set(1030)
        #expect(try await cache.current().accessKeyID.hasPrefix("AK"))
        #expect(try await cache.current().accessKeyID != "AK1")
    }

    @Test func aRejectionRefreshesOnceForEveryone() async throws {
        let clock = Clock()
        let source = Source(clock: clock, lifetime: 3600, delay: .milliseconds(100))
        let cache = try await Self.start(source)
        let rejected = try await cache.current()
        let keys = await withTaskGroup(of: String.self) { group in
            for _ in 0..<10 { group.addTask { (try? await cache.refreshed(after: rejected).accessKeyID) ?? "failed" } }
            return await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(keys == ["AK2"])
        #expect(source.fetches == 2)
        // Rejected credentials that were already replaced: the current ones, no fetch.
        #expect(try await cache.refreshed(after: rejected).accessKeyID == "AK2")
        #expect(source.fetches == 2)
    }

    @Test func fixedKeysNeverRefresh() async throws {
        let keys = S3Credentials(accessKeyID: "AK", secretAccessKey: "S")
        let cache = RefreshingCredentials(fixed: keys, logger: Logger(label: "test"))
        #expect(!cache.refreshable)
        #expect(try await cache.current() == keys)
    }
}
