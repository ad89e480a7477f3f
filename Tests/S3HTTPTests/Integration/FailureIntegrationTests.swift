// How the store reports a wrong bucket, wrong credentials and a closed port.

import Foundation
import ObjectStore
import S3HTTP
import Testing

@Suite(.enabled(if: IntegrationEnvironment.isConfigured, "S3_TEST_ENDPOINT is not set"))
struct FailureIntegrationTests {
    @Test func checkBucketSucceedsOnTheTestBucket() async throws {
        let store = try IntegrationEnvironment.store()
        #expect(await Kinds.of { try await store.checkBucket(prefix: "") } == .noError)
    }

    @Test func wrongBucketIsNoSuchBucket() async throws {
        let store = try IntegrationEnvironment.store(
            IntegrationEnvironment.config(bucket: "no-such-bucket-\(UInt32.random(in: 0..<UInt32.max))"))
        #expect(await Kinds.of { try await store.checkBucket(prefix: "") } == .service(.noSuchBucket))
    }

    @Test func wrongSecretIsAccessDenied() async throws {
        var config = IntegrationEnvironment.config()
        config.credentials?.secretAccessKey = "not-the-secret"
        let store = try IntegrationEnvironment.store(config)
        #expect(await Kinds.of { try await store.checkBucket(prefix: "") } == .service(.accessDenied))
        #expect(await Kinds.of { _ = try await store.head(key: "anything") } == .service(.accessDenied))
    }

    @Test func unknownAccessKeyIsAccessDenied() async throws {
        var config = IntegrationEnvironment.config()
        config.credentials?.accessKeyID = "NOSUCHKEY\(UInt32.random(in: 0..<UInt32.max))"
        let store = try IntegrationEnvironment.store(config)
        #expect(await Kinds.of { try await store.checkBucket(prefix: "") } == .service(.accessDenied))
    }

    @Test func refusedPortFailsFast() async throws {
        let store = try IntegrationEnvironment.store(IntegrationEnvironment.config(endpoint: "http://127.0.0.1:1"))
        let started = ContinuousClock.now
        #expect(await Kinds.of { try await store.checkBucket(prefix: "") } == .client(.connectionRefused))
        // A hang guard, not a timing benchmark: the kind above already says it was a refusal, not a timeout. Beside the
        // CPU-bound corpus tests on two cores the answer can wait many seconds for a cooperative thread (18 s seen).
        #expect(ContinuousClock.now - started < .seconds(60))
    }
}
