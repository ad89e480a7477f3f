import EndpointPool
import ObjectStore
import S3FSTesting
import Testing

@Suite struct BalancedPolicyTests {
    @Test func balancedSpreadsByRequestsInFlight() async throws {
        let mock = MockObjectStore()
        _ = mock.put("k", Array(repeating: 7, count: 32))
        let gates = [GatedStore(wrapping: mock), GatedStore(wrapping: mock)]
        let pool = makePool(gates, policy: .balanced)
        var reads: [Task<[UInt8], any Error>] = []
        for started in 1...10 {
            reads.append(Task { try await pool.get(key: "k", range: ByteRange(0..<32), ifMatch: nil) })
            await eventually { gates[0].held.count + gates[1].held.count == started }
        }
        #expect(gates.map(\.held.count) == [5, 5])
        for gate in gates { gate.open() }
        for read in reads { #expect(try await read.value == Array(repeating: 7, count: 32)) }
    }

    @Test func failoverSendsEverythingToTheFirstHealthyEndpoint() async throws {
        let mock = MockObjectStore()
        _ = mock.put("k", Array(repeating: 7, count: 32))
        let gates = [GatedStore(wrapping: mock), GatedStore(wrapping: mock)]
        for gate in gates { gate.open() }
        let pool = makePool(gates, policy: .failover)
        for _ in 0..<10 { _ = try await pool.get(key: "k", range: ByteRange(0..<32), ifMatch: nil) }
        #expect(gates.map(\.arrivals.count) == [10, 0])
    }
}
