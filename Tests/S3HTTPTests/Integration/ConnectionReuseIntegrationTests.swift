// Keep-alive: sequential requests share one connection (counted from CURLINFO_NUM_CONNECTS).

import ObjectStore
import S3HTTP
import Testing

@Suite(.enabled(if: IntegrationEnvironment.isConfigured, "S3_TEST_ENDPOINT is not set"))
struct ConnectionReuseIntegrationTests {
    @Test func fiftySequentialGetsReuseTheConnection() async throws {
        let prefix = IntegrationEnvironment.randomPrefix()
        let key = prefix + "small"
        _ = try await IntegrationEnvironment.upload([key: Array("hello".utf8)])
        let store = try IntegrationEnvironment.store()
        for _ in 0..<50 {
            #expect(try await store.get(key: key, range: nil, ifMatch: nil) == Array("hello".utf8))
        }
        #expect(store.connectionsOpened >= 1)
        #expect(store.connectionsOpened <= 2)
        await IntegrationEnvironment.deleteAll(prefix: prefix)
    }
}
