@testable import EndpointPool
import ObjectStore
import S3FSTesting
import Testing

@Suite struct HedgingTests {
    /// Endpoint 0 holds GETs of "slow" at its gate; everything else passes. 40 warm-up GETs give endpoint 0 its
    /// latency samples (100 ms of test clock each: a p95 to hedge against, and a latency a twin can beat even when
    /// a loaded machine makes its real first byte take tens of milliseconds) and the bucket two tokens. Balanced policy (hedging is balanced-only), with every random draw 0 so that the first
    /// choice is endpoint 0.
    private func warmedPool(_ mock: MockObjectStore) async throws -> (EndpointPool, GatedStore, GatedStore) {
        let clock = TestClock(uniform: 0)
        let gated = GatedStore(wrapping: SlowFirstByteStore(wrapping: mock, clock: clock, slowGets: 40, delay: 0.1))
        gated.passThrough { $0.key != "slow" }
        let other = GatedStore(wrapping: mock)
        other.open()
        let pool = makePool([gated, other], policy: .balanced, clock: clock)
        for _ in 0..<40 { _ = try await pool.get(key: "warm", range: ByteRange(0..<16), ifMatch: nil) }
        return (pool, gated, other)
    }

    @Test func aLateGetIsHedgedTheTwinWinsAndTheLoserIsCancelled() async throws {
        let mock = MockObjectStore()
        _ = mock.put("warm", Array(repeating: 1, count: 16))
        let slow = mock.put("slow", (0..<4096).map { UInt8(truncatingIfNeeded: $0) })
        let (pool, gated, other) = try await warmedPool(mock)
        let got = try await pool.get(key: "slow", range: ByteRange(0..<4096), ifMatch: slow.etag)
        #expect(got == (0..<4096).map { UInt8(truncatingIfNeeded: $0) })
        #expect(other.arrivals.map(\.key) == ["slow"])
        await eventually { gated.cancelled.count == 1 }
        let snapshot = pool.snapshot
        #expect(snapshot.hedges == 1 && snapshot.hedgeWins == 1)
        #expect(snapshot.endpoints[0].outstanding == 0 && snapshot.endpoints[0].errors == 0)
    }

    @Test func twinsNeverExceedFivePercentOfGets() async throws {
        let mock = MockObjectStore()
        _ = mock.put("warm", Array(repeating: 1, count: 16))
        _ = mock.put("slow", Array(repeating: 2, count: 64))
        let (pool, gated, _) = try await warmedPool(mock)
        for _ in 0..<2 { _ = try await pool.get(key: "slow", range: ByteRange(0..<64), ifMatch: nil) }
        #expect(pool.snapshot.hedges == 2)
        // No token left: the third slow GET waits at the gate with no twin.
        let third = Task { try await pool.get(key: "slow", range: ByteRange(0..<64), ifMatch: nil) }
        await eventually { gated.held.count == 1 }
        #expect(pool.snapshot.hedges == 2)
        gated.release(gated.held[0])
        _ = try await third.value
        let snapshot = pool.snapshot
        #expect(Double(snapshot.hedges) <= 0.05 * Double(snapshot.gets))
    }

    @Test func aTwinGoesOnlyWhereItCanBeatThePrimary() {
        #expect(HedgeBudget.isWorthATwin(primary: 0.055, twin: 0.005))  // slow endpoint hedged onto a fast one
        #expect(HedgeBudget.isWorthATwin(primary: 0.005, twin: 0.008))  // peers
        #expect(!HedgeBudget.isWorthATwin(primary: 0.005, twin: 0.055))  // would answer after the primary's tail
        #expect(HedgeBudget.isWorthATwin(primary: 0.005, twin: nil))  // unknown: try it
    }

    @Test func failoverSparesAreNeverHedgedTo() async throws {
        let mock = MockObjectStore()
        _ = mock.put("slow", Array(repeating: 2, count: 64))
        let gated = GatedStore(wrapping: mock)
        gated.passThrough { $0.id <= 40 }
        let spare = GatedStore(wrapping: mock)
        spare.open()
        let clock = TestClock()
        let pool = makePool([gated, spare], policy: .failover, clock: clock)
        for _ in 0..<40 { _ = try await pool.get(key: "slow", range: ByteRange(0..<16), ifMatch: nil) }
        let rounds = clock.slept.count
        let held = Task { try await pool.get(key: "slow", range: ByteRange(0..<64), ifMatch: nil) }
        await eventually { gated.held.count == 1 && clock.slept.count > rounds }
        // every watchdog sleep is the 60 s stall limit: no round ever waited for a hedging time
        #expect(clock.slept.allSatisfy { $0 >= 30 }, "\(clock.slept.filter { $0 < 30 })")
        gated.release(gated.held[0])
        _ = try await held.value
        #expect(spare.arrivals.isEmpty && pool.snapshot.hedges == 0)
    }
}
