import ObjectStore
import S3FSTesting
import Testing

@Suite struct FaultInjectingStoreTests {
    let mock = MockObjectStore()
    let store: FaultInjectingStore

    init() {
        mock.put("k", "v")
        store = FaultInjectingStore(wrapping: mock)
    }

    @Test func theNthCallOfOneOperationFailsOnce() async throws {
        store.failCall(2, of: .head, with: .stub(ServiceError.Kind.serverError))
        _ = try await store.get(key: "k", range: nil, ifMatch: nil)  // other operations do not count
        _ = try await store.head(key: "k")
        await #expect(throws: ObjectStoreError.stub(ServiceError.Kind.serverError)) { try await store.head(key: "k") }
        _ = try await store.head(key: "k")
        #expect(store.injectedFailures == [.head(key: "k")])
        #expect(mock.callCount(.head) == 2)  // the failed call never reached the wrapped store
    }

    @Test func aPredicateFailsEveryMatchingCallUntilRemoved() async throws {
        store.failAll(with: .stub(ClientError.Kind.connectionReset)) { $0.key == "k" && $0.operation == .get }
        for _ in 0..<3 {
            await #expect(throws: ObjectStoreError.stub(ClientError.Kind.connectionReset)) {
                try await store.get(key: "k", range: nil, ifMatch: nil)
            }
        }
        _ = try await store.head(key: "k")
        store.removeAllFaults()
        #expect(try await store.get(key: "k", range: nil, ifMatch: nil) == Array("v".utf8))
        #expect(store.bucket == mock.bucket)
    }
}
