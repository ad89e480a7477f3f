// RefreshingCredentials: the credentials every request is signed with, kept fresh.
//
// Reading them is a Mutex read. Credentials with an expiry are refreshed ahead of it: once less than
// `refreshMargin` of their life is left (a quarter of their lifetime, at most 5 minutes: the SDKs refresh 5 minutes
// before the usual hour-long expiry, and test credentials living 20 s refresh 5 s before) the first request that
// notices starts a background refresh and carries on with the current credentials. Only one refresh runs at a
// time. A failed refresh is logged once per failure streak and retried with backoff (1 s doubling to 60 s, but
// never later than the expiry); the old credentials stay in use until they really expire. Past the expiry a
// request waits for the refresh under way (or starts one), and fails, as access denied, if there is none to be
// had. A request the server rejected as expired asks `refreshed(after:)`: one refresh for all who ask about the
// same credentials. Nothing here logs a key, secret or token.

import Foundation
import Logging
import Synchronization

public final class RefreshingCredentials: Sendable {
    /// Where the credentials come from, safe to log.
    public var source: String { provider.source }
    /// Whether new credentials can be fetched (false for keys written in the environment or a file).
    public var refreshable: Bool { provider.refreshable }

    /// Refreshes failed in a row since the last success.
    var failureStreak: Int { state.withLock { $0.failures } }

    private let provider: any CredentialProvider
    private let logger: Logger
    private let clock: @Sendable () -> Double
    private let state: Mutex<State>

    private struct State {
        var current: S3Credentials
        /// When `current` was obtained (seconds since the epoch), to know its lifetime.
        var obtained: Double
        var refresh: Task<S3Credentials, any Error>?
        var failures = 0
        var nextAttempt = 0.0
        var lastError: CredentialError?
    }

    /// Seconds since the epoch, now.
    @Sendable public static func now() -> Double { Date().timeIntervalSince1970 }

    /// Fetches the first credentials from `provider`; its error is the mount's.
    static func start(
        _ provider: any CredentialProvider, logger: Logger, clock: @escaping @Sendable () -> Double = now
    ) async throws(CredentialError) -> RefreshingCredentials {
        let first = try await provider.fetch()
        return RefreshingCredentials(provider: provider, first: first, logger: logger, clock: clock)
    }

    /// Credentials that never change (`S3HTTPConfig.credentials`).
    convenience init(fixed credentials: S3Credentials, logger: Logger) {
        self.init(
            provider: FixedCredentials(credentials: credentials, source: "fixed keys"), first: credentials,
            logger: logger, clock: Self.now)
    }

    private init(
        provider: any CredentialProvider, first: S3Credentials, logger: Logger, clock: @escaping @Sendable () -> Double
    ) {
        self.provider = provider
        self.logger = logger
        self.clock = clock
        state = Mutex(State(current: first, obtained: clock()))
    }

    /// Seconds before the expiry at which a refresh starts, for credentials that live `lifetime` seconds.
    static func refreshMargin(lifetime: Double) -> Double {
        min(300, max(0, lifetime) / 4)
    }

    /// The credentials to sign with now.
    func current() async throws(CredentialError) -> S3Credentials {
        let now = clock()
        let decision: Decision = state.withLock { state in
            guard let expiration = state.current.expiration else { return .use(state.current) }
            if now < expiration - Self.refreshMargin(lifetime: expiration - state.obtained) {
                return .use(state.current)
            }
            if now < expiration {
                if state.refresh == nil && now >= state.nextAttempt { _ = startRefresh(&state) }
                return .use(state.current)
            }
            if let task = state.refresh { return .wait(task) }
            if now >= state.nextAttempt { return .wait(startRefresh(&state)) }
            return .fail(state.lastError ?? CredentialError(description: "\(provider.source): credentials expired"))
        }
        return try await decision.resolve(source: provider.source)
    }

    /// New credentials after the server rejected `rejected` as expired: the refresh under way or a new one, unless
    /// the credentials changed since `rejected` was handed out (then the current ones).
    func refreshed(after rejected: S3Credentials) async throws(CredentialError) -> S3Credentials {
        let decision: Decision = state.withLock { state in
            if state.current != rejected { return .use(state.current) }
            return .wait(state.refresh ?? startRefresh(&state))
        }
        return try await decision.resolve(source: provider.source)
    }

    private enum Decision {
        case use(S3Credentials)
        case wait(Task<S3Credentials, any Error>)
        case fail(CredentialError)

        func resolve(source: String) async throws(CredentialError) -> S3Credentials {
            switch self {
            case .use(let credentials): return credentials
            case .fail(let error): throw error
            case .wait(let task):
                do {
                    return try await task.value
                } catch let error as CredentialError {
                    throw error
                } catch {
                    throw CredentialError(description: "\(source): \(error)")
                }
            }
        }
    }

    /// Starts the one refresh; called with the state locked (the task's end takes the lock after this returns).
    private func startRefresh(_ state: inout State) -> Task<S3Credentials, any Error> {
        let task = Task<S3Credentials, any Error> { [self] in
            do throws(CredentialError) {
                let fresh = try await provider.fetch()
                finishRefresh(.success(fresh))
                return fresh
            } catch {
                finishRefresh(.failure(error))
                throw error
            }
        }
        state.refresh = task
        return task
    }

    private func finishRefresh(_ outcome: Result<S3Credentials, CredentialError>) {
        let now = clock()
        let (failures, expiration): (Int, Double?) = state.withLock { state in
            state.refresh = nil
            switch outcome {
            case .success(let fresh):
                let streak = state.failures
                (state.current, state.obtained, state.failures, state.nextAttempt, state.lastError) = (fresh, now, 0, 0, nil)
                return (streak, fresh.expiration)
            case .failure(let error):
                state.failures += 1
                let backoff = min(60, pow(2, Double(state.failures - 1)))
                let expiry = state.current.expiration ?? .infinity
                state.nextAttempt = now < expiry ? min(now + backoff, expiry) : now + backoff
                state.lastError = error
                return (state.failures, state.current.expiration)
            }
        }
        let until = expiration.map { Timestamps.iso8601(epochSeconds: Int($0)) } ?? "never"
        switch outcome {
        case .success:
            if failures > 0 {
                logger.notice(
                    "credentials refreshed after failures",
                    metadata: ["source": "\(provider.source)", "failures": "\(failures)", "expires": "\(until)"])
            } else {
                logger.debug("credentials refreshed", metadata: ["source": "\(provider.source)", "expires": "\(until)"])
            }
        case .failure(let error):
            if failures == 1 {
                logger.warning(
                    "credential refresh failed; retrying with backoff, the current credentials stay in use until they expire",
                    metadata: ["source": "\(provider.source)", "error": "\(error.description)", "expires": "\(until)"])
            }
        }
    }
}
