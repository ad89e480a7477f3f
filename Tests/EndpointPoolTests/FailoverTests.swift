import EndpointPool
import ObjectStore
import S3FSTesting
import Testing

@Suite struct FailoverTests {
    @Test func aGetCutMidBodyContinuesElsewhereFromTheByteWhereItStopped() async throws {
        let (mock, bytes, info) = mockWithObject(size: 10_000)
        let cut = TruncatingStore(
            wrapping: mock, cutAfter: 1234, error: .client(ClientError(kind: .connectionReset, detail: "reset")))
        let second = GatedStore(wrapping: mock, chunkSize: 1000)
        second.open()
        let pool = makePool([cut, second])
        let got = try await pool.get(key: "data", range: ByteRange(100..<9_100), ifMatch: info.etag)
        #expect(got == Array(bytes[100..<9_100]))
        #expect(cut.requestedRanges == [ByteRange(100..<9_100)])
        #expect(second.arrivals.map(\.range) == [ByteRange(1_334..<9_100)])
        #expect(second.arrivals.map(\.ifMatch) == [info.etag])
    }

    @Test func aWholeObjectGetContinuesWithAnOpenEndedRange() async throws {
        let (mock, bytes, _) = mockWithObject(size: 5_000)
        let cut = TruncatingStore(wrapping: mock, cutAfter: 700, error: .client(ClientError(kind: .truncatedBody, detail: "")))
        let pool = makePool([cut, mock])
        let got = try await pool.get(key: "data", range: nil, ifMatch: nil)
        #expect(got == bytes)
    }

    @Test(arguments: [
        serviceError(.accessDenied, 403, "AccessDenied"), serviceError(.noSuchKey, 404, "NoSuchKey"),
        serviceError(.preconditionFailed, 412, "PreconditionFailed"),
    ])
    func errorsThatAreNotTheEndpointsFaultAreNotRetried(_ error: ObjectStoreError) async {
        let (mock, _, _) = mockWithObject()
        let first = FaultInjectingStore(wrapping: mock)
        first.failAll(.get, with: error)
        let second = GatedStore(wrapping: mock)
        second.open()
        let pool = makePool([first, second])
        await #expect(throws: error) { try await pool.get(key: "data", range: ByteRange(0..<10), ifMatch: nil) }
        #expect(second.arrivals.isEmpty)
        #expect(pool.snapshot.endpoints[0].state == .closed)
    }

    @Test func refusedRequestsMoveToTheNextEndpointAndOpenTheBreaker() async throws {
        let (mock, bytes, _) = mockWithObject()
        let first = FaultInjectingStore(wrapping: mock)
        first.failAll(with: refused) { _ in true }
        let pool = makePool([first, mock])
        for _ in 0..<5 {
            #expect(try await pool.get(key: "data", range: ByteRange(0..<100), ifMatch: nil) == Array(bytes[0..<100]))
        }
        let snapshot = pool.snapshot.endpoints
        #expect(snapshot[0].state == .open)
        #expect(snapshot[0].requests == 3)  // the breaker opened after three refusals; no request since
        #expect(snapshot[1].requests == 5)
    }

    @Test func aDownEndpointReturnsAfterAProbeAndATrial() async throws {
        let (mock, _, _) = mockWithObject()
        let first = FaultInjectingStore(wrapping: mock)
        first.failAll(with: refused) { _ in true }
        let clock = TestClock()
        let pool = makePool([first, mock], clock: clock)
        for _ in 0..<3 { _ = try await pool.head(key: "data") }
        #expect(pool.snapshot.endpoints[0].state == .open)
        await pool.probeDueEndpoints()  // not due yet
        #expect(pool.snapshot.endpoints[0].state == .open)
        clock.skip(1)
        await pool.probeDueEndpoints()  // due, but still refused: next probe in 2 s
        #expect(pool.snapshot.endpoints[0].state == .open)
        first.removeAllFaults()
        clock.skip(2)
        await pool.probeDueEndpoints()
        #expect(pool.snapshot.endpoints[0].state == .halfOpen)
        let before = pool.snapshot.endpoints[0].requests
        _ = try await pool.head(key: "data")
        #expect(pool.snapshot.endpoints[0].state == .closed)
        #expect(pool.snapshot.endpoints[0].requests == before + 1)
    }

    @Test func whenEveryEndpointIsDownTheOperationFailsWithinTheRetryBounds() async {
        let (mock, _, _) = mockWithObject()
        let stores = (0..<2).map { _ in FaultInjectingStore(wrapping: mock) }
        for store in stores { store.failAll(with: refused) { _ in true } }
        let clock = TestClock()
        let pool = makePool(stores, clock: clock) { $0.retry = RetryPolicy(maxAttempts: 4, budget: 10) }
        await #expect(throws: refused) { try await pool.get(key: "data", range: ByteRange(0..<10), ifMatch: nil) }
        #expect(stores.map(\.injectedFailures.count).reduce(0, +) == 4)
        let backoffs = clock.slept.filter { $0 < 30 }  // the rest are the stall watchdog's (60 s floor here)
        #expect(backoffs.count == 3)
        #expect(backoffs.allSatisfy { $0 <= 1 })
    }

    @Test func theSameGetAskedAgainJustAfterItsRetriesWereSpentFailsAtOnce() async {
        let (mock, _, _) = mockWithObject()
        let stores = (0..<2).map { _ in FaultInjectingStore(wrapping: mock) }
        for store in stores { store.failAll(with: refused) { _ in true } }
        let pool = makePool(stores) {
            $0.retry = RetryPolicy(maxAttempts: 4, budget: 10)
            $0.failureThreshold = 100  // endpoints stay in service: every GET is tried for real unless remembered
        }
        let failures = { stores.map(\.injectedFailures.count).reduce(0, +) }
        await #expect(throws: refused) { try await pool.get(key: "data", range: ByteRange(0..<10), ifMatch: nil) }
        #expect(failures() == 4)
        // the kernel's immediate retry of the failed read: same key and range, no second round of retries
        await #expect(throws: refused) { try await pool.get(key: "data", range: ByteRange(0..<10), ifMatch: nil) }
        #expect(failures() == 4)
        // another range is tried for real
        await #expect(throws: refused) { try await pool.get(key: "data", range: ByteRange(10..<20), ifMatch: nil) }
        #expect(failures() == 8)
    }

    @Test func aFinalAnswerIsNotRememberedAsSpent() async throws {
        let (mock, bytes, _) = mockWithObject()
        let store = FaultInjectingStore(wrapping: mock)
        store.failCall(1, of: .get, with: serviceError(.noSuchKey, 404, "NoSuchKey"))
        let pool = makePool([store, mock])
        await #expect(throws: ObjectStoreError.self) { try await pool.get(key: "data", range: ByteRange(0..<10), ifMatch: nil) }
        #expect(try await pool.get(key: "data", range: ByteRange(0..<10), ifMatch: nil) == Array(bytes[0..<10]))
    }

    @Test func aThrottlingEndpointLosesConcurrencyIsPushedBackAndItsRequestsMoveOn() async throws {
        let (mock, bytes, _) = mockWithObject()
        let first = FaultInjectingStore(wrapping: mock)
        first.failAll(.get, with: serviceError(.throttled, 503, "SlowDown"))
        let pool = makePool([first, mock]) { $0.initialThrottlePushback = 60 }
        for _ in 0..<3 {
            #expect(try await pool.get(key: "data", range: ByteRange(0..<64), ifMatch: nil) == Array(bytes[0..<64]))
        }
        let snapshot = pool.snapshot.endpoints[0]
        #expect(snapshot.state == .closed)
        #expect(snapshot.throttled == 1)  // pushed back after the first 503: the next GETs go straight elsewhere
        #expect(snapshot.concurrencyLimit < 32)
        #expect(pool.snapshot.endpoints[1].requests == 3)
    }

    @Test func aStalledTransferIsAbandonedAndContinuedFromItsLastByte() async throws {
        let (mock, bytes, _) = mockWithObject(size: 8_000)
        let stuck = GatedStore(wrapping: mock, chunkSize: 500)
        let pool = makePool([stuck, mock]) { $0.stallFloor = 0.05 }
        let read = Task { try await pool.get(key: "data", range: ByteRange(0..<8_000), ifMatch: nil) }
        await eventually { stuck.held.count == 1 }
        stuck.deliverPrefix(stuck.held[0], bytes: 3_000)
        let got = try await read.value
        #expect(got == bytes)
        #expect(stuck.cancelled.count == 1)
        #expect(pool.snapshot.endpoints[0].errors == 1)
    }

    @Test func aGetStallIsCappedEvenOnAnEndpointWhoseTailIsSlow() async throws {
        let (mock, bytes, _) = mockWithObject(size: 8_000)
        let clock = TestClock()
        // 20 GETs whose first byte comes 1 s (of test clock) late: p99 1 s, so 4 × p99 would allow a 4 s stall
        let slowTail = SlowFirstByteStore(wrapping: mock, clock: clock, slowGets: 20, delay: 1)
        let stuck = GatedStore(wrapping: slowTail, chunkSize: 500)
        stuck.passThrough { $0.id <= 20 }
        let pool = makePool([stuck, mock], clock: clock) {
            $0.stallFloor = 0.05
            $0.getStallCeiling = 0.2
        }
        for _ in 0..<20 { _ = try await pool.get(key: "data", range: ByteRange(0..<100), ifMatch: nil) }
        let read = Task { try await pool.get(key: "data", range: ByteRange(0..<8_000), ifMatch: nil) }
        await eventually { stuck.held.count == 1 }
        stuck.deliverPrefix(stuck.held[0], bytes: 3_000)
        #expect(try await read.value == bytes)
        #expect(stuck.cancelled.count == 1)
        #expect(clock.slept.allSatisfy { $0 <= 0.2 + 1e-6 }, "the watchdog waited longer than the ceiling: \(clock.slept)")
    }

    @Test func onHangingEndpointsNoAttemptOutlivesTheRetryBudget() async throws {
        let (mock, _, _) = mockWithObject(size: 1_000)
        let hanging = [GatedStore(wrapping: mock), GatedStore(wrapping: mock)]
        let clock = TestClock()
        let pool = makePool(hanging, clock: clock) {
            $0.stallFloor = 0.1
            $0.retry = RetryPolicy(maxAttempts: 8, budget: 0.5, baseDelay: 0.001, maxDelay: 0.001)
        }
        await #expect(throws: ObjectStoreError.self) {
            try await pool.get(key: "data", range: ByteRange(0..<10), ifMatch: nil)
        }
        #expect(hanging.map(\.cancelled.count).reduce(0, +) >= 2)
        // stalls double the limit (0.1, 0.2, 0.4 …); the budget's end (0.5 s after the first stall) cuts the third
        // to what is left of it, 0.3 s at most
        #expect(clock.slept.allSatisfy { $0 <= 0.3 + 1e-6 }, "\(clock.slept)")
    }

    @Test func withNowhereElseToGoASlowTransferIsNotCalledOff() async throws {
        let (mock, bytes, _) = mockWithObject(size: 8_000)
        let only = GatedStore(wrapping: mock, chunkSize: 500)
        let clock = TestClock()
        let pool = makePool([only], clock: clock) { $0.stallFloor = 0.05 }
        let read = Task { try await pool.get(key: "data", range: ByteRange(0..<8_000), ifMatch: nil) }
        await eventually { only.held.count == 1 }
        only.deliverPrefix(only.held[0], bytes: 3_000)
        await eventually { only.held.count == 1 && pool.snapshot.endpoints[0].latencyEWMA != nil }
        #expect(clock.slept.isEmpty, "the watchdog set a stall deadline: \(clock.slept)")
        only.release(only.held[0])
        #expect(try await read.value == bytes)
        #expect(only.cancelled.isEmpty && only.arrivals.count == 1)
    }
}
