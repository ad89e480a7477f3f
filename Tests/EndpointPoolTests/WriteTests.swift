// The pool's writes: retried on another endpoint after an endpoint fault, never retried after a final answer,
// never hedged; CompleteMultipartUpload whose answer was lost, and AbortMultipartUpload of an upload already gone.
@testable import EndpointPool
import ObjectStore
import S3FSTesting
import Synchronization
import Testing

@Suite struct WriteTests {
    @Test func aPutRefusedByTheFirstEndpointIsSentWholeToTheSecond() async throws {
        let mock = MockObjectStore()
        let first = FaultInjectingStore(wrapping: mock)
        first.failCall(1, of: .put, with: refused)
        let second = PutGate(wrapping: mock, open: true)
        let pool = makePool([first, second])
        let body = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let etag = try await pool.put(key: "new", body: .bytes(body), condition: .ifNoneMatch)
        #expect(first.injectedFailures == [.put(key: "new", size: 70_000, condition: .ifNoneMatch)])
        #expect(second.arrivals == 1)
        #expect(mock.object("new")?.etag == etag)
        #expect(try await mock.get(key: "new", range: nil, ifMatch: nil) == body)
        #expect(pool.snapshot.endpoints[0].errors == 1)
    }

    @Test(arguments: [
        serviceError(.preconditionFailed, 412, "PreconditionFailed"), serviceError(.accessDenied, 403, "AccessDenied"),
    ])
    func aFinalAnswerToAWriteIsNotRetried(_ error: ObjectStoreError) async {
        let mock = MockObjectStore()
        let first = FaultInjectingStore(wrapping: mock)
        first.failAll(.put, with: error)
        let second = PutGate(wrapping: mock, open: true)
        let pool = makePool([first, second])
        await #expect(throws: error) {
            try await pool.put(key: "k", body: .bytes([1, 2, 3]), condition: .ifMatch(ETag("\"old\"")))
        }
        #expect(first.injectedFailures.count == 1)
        #expect(second.arrivals == 0)
        #expect(mock.object("k") == nil)
    }

    /// Balanced pool whose endpoint 0 has slow GET samples (a hedging threshold) and holds PUTs. A PUT held there
    /// past the threshold gets no twin, while a GET held there after it does.
    @Test func aWriteIsNeverHedged() async throws {
        let mock = MockObjectStore()
        _ = mock.put("warm", Array(repeating: 1, count: 16))
        _ = mock.put("slow", Array(repeating: 2, count: 64))
        let clock = TestClock(uniform: 0)
        let heldPuts = PutGate(wrapping: SlowFirstByteStore(wrapping: mock, clock: clock, slowGets: 40, delay: 0.1), open: false)
        let gated = GatedStore(wrapping: heldPuts)
        gated.passThrough { $0.key != "slow" }
        let otherPuts = PutGate(wrapping: mock, open: true)
        let other = GatedStore(wrapping: otherPuts)
        other.open()
        let pool = makePool([gated, other], policy: .balanced, clock: clock)
        for _ in 0..<40 { _ = try await pool.get(key: "warm", range: ByteRange(0..<16), ifMatch: nil) }

        let put = Task { try await pool.put(key: "written", body: .bytes([9, 9]), condition: .unconditional) }
        await eventually { heldPuts.arrivals == 1 }
        let get = Task { try await pool.get(key: "slow", range: ByteRange(0..<64), ifMatch: nil) }
        _ = try await get.value  // its twin on endpoint 1 answered: the PUT's hedging time, earlier, has passed too
        #expect(other.arrivals.map(\.key) == ["slow"])
        #expect(otherPuts.arrivals == 0)
        #expect(pool.snapshot.hedges == 1)
        heldPuts.release()
        _ = try await put.value
        #expect(otherPuts.arrivals == 0 && heldPuts.arrivals == 1)
        #expect(mock.object("written") != nil)
    }

    @Test func aCompletionWhoseAnswerWasLostSucceedsOnRetryWhenTheObjectExists() async throws {
        let mock = MockObjectStore()
        let upload = try await mock.createMultipartUpload(key: "big")
        let part = try await mock.uploadPart(key: "big", upload: upload, number: 1, body: .bytes([1, 2, 3]))
        let pool = makePool([AnswerLostStore(wrapping: mock), mock])
        let etag = try await pool.completeMultipartUpload(
            key: "big", upload: upload, parts: [CompletedPart(number: 1, etag: part)])
        #expect(etag == nil)
        #expect(mock.calls.suffix(3) == [
            .completeMultipartUpload(key: "big", parts: 1), .completeMultipartUpload(key: "big", parts: 1),
            .head(key: "big"),
        ])
        #expect(try await mock.get(key: "big", range: nil, ifMatch: nil) == [1, 2, 3])
    }

    @Test func noSuchUploadOnTheFirstCompletionAttemptIsTheCallersError() async throws {
        let mock = MockObjectStore()
        _ = mock.put("big", [7])
        let pool = makePool([mock])
        await #expect(throws: ObjectStoreError.stub(.noSuchUpload)) {
            _ = try await pool.completeMultipartUpload(
                key: "big", upload: MultipartUploadID("gone"), parts: [CompletedPart(number: 1, etag: ETag("\"x\""))])
        }
        #expect(mock.callCount(.head) == 0)
    }

    @Test func aLostCompletionAnswerWithoutTheObjectKeepsNoSuchUpload() async throws {
        let mock = MockObjectStore()
        let upload = try await mock.createMultipartUpload(key: "big")
        let part = try await mock.uploadPart(key: "big", upload: upload, number: 1, body: .bytes([1]))
        let pool = makePool([AnswerLostStore(wrapping: mock, deletesTheObject: true), mock])
        await #expect(throws: ObjectStoreError.stub(.noSuchUpload)) {
            _ = try await pool.completeMultipartUpload(
                key: "big", upload: upload, parts: [CompletedPart(number: 1, etag: part)])
        }
        #expect(mock.callCount(.head) == 1)
    }

    @Test func abortingAnUploadThatIsGoneSucceeds() async throws {
        let mock = MockObjectStore()
        let first = FaultInjectingStore(wrapping: mock)
        first.failAll(.multipart, with: .stub(.noSuchUpload))
        let pool = makePool([first])
        try await pool.abortMultipartUpload(key: "k", upload: MultipartUploadID("gone"))
        #expect(first.injectedFailures == [.abortMultipartUpload(key: "k")])
    }

    @Test func multipartCallsGoThroughThePool() async throws {
        let mock = MockObjectStore()
        let source = mock.put("source", (0..<100).map { UInt8($0) })
        let first = FaultInjectingStore(wrapping: mock)
        first.failAll(.multipart, with: .stub(.serverError))
        let pool = makePool([first, mock])
        let upload = try await pool.createMultipartUpload(key: "joined")
        #expect(try await pool.listMultipartUploads(prefix: "jo").map(\.uploadID) == [upload])
        let partBytes = [UInt8](repeating: 0xff, count: Int(UploadLimits.minPartBytes))
        let one = try await pool.uploadPart(key: "joined", upload: upload, number: 1, body: .bytes(partBytes))
        let two = try await pool.uploadPartCopy(
            key: "joined", upload: upload, number: 2, source: "source", range: ByteRange(10..<20), sourceETag: source.etag)
        let etag = try await pool.completeMultipartUpload(
            key: "joined", upload: upload, parts: [CompletedPart(number: 1, etag: one), CompletedPart(number: 2, etag: two)])
        #expect(etag != nil)
        #expect(try await mock.get(key: "joined", range: nil, ifMatch: nil) == partBytes + (10..<20).map { UInt8($0) })
        #expect(try await pool.listMultipartUploads(prefix: "").isEmpty)
        #expect(try await pool.copy(from: "joined", to: "copied", sourceETag: nil) == mock.object("copied")?.etag)
        try await pool.delete(key: "copied")
        #expect(mock.object("copied") == nil)
    }
}

/// Holds every PUT until `release()` (or passes them when open), counting them.
final class PutGate: WrappingStore {
    let wrapped: any ObjectStore
    private let state: Mutex<(arrivals: Int, open: Bool, waiting: [CheckedContinuation<Void, Never>])>

    init(wrapping store: any ObjectStore, open: Bool) {
        wrapped = store
        state = Mutex((0, open, []))
    }

    var arrivals: Int { state.withLock { $0.arrivals } }

    func release() {
        let waiting = state.withLock { state in
            state.open = true
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    func put(key: String, body: UploadBody, condition: WriteCondition) async throws(ObjectStoreError) -> ETag {
        await withCheckedContinuation { continuation in
            let pass = state.withLock { state in
                state.arrivals += 1
                if !state.open { state.waiting.append(continuation) }
                return state.open
            }
            if pass { continuation.resume() }
        }
        return try await wrapped.put(key: key, body: body, condition: condition)
    }

    func list(_ request: ListRequest) async throws(ObjectStoreError) -> ListPage { try await wrapped.list(request) }

    func head(key: String) async throws(ObjectStoreError) -> ObjectInfo { try await wrapped.head(key: key) }

    func get(key: String, range: ByteRange?, ifMatch: ETag?) async throws(ObjectStoreError) -> [UInt8] {
        try await wrapped.get(key: key, range: range, ifMatch: ifMatch)
    }
}

/// Completes multipart uploads but answers with a reset, as if the connection died after the server committed;
/// with `deletesTheObject`, someone deletes the new object before the caller can look.
final class AnswerLostStore: WrappingStore {
    let wrapped: any ObjectStore
    let deletesTheObject: Bool

    init(wrapping store: any ObjectStore, deletesTheObject: Bool = false) {
        wrapped = store
        self.deletesTheObject = deletesTheObject
    }

    func completeMultipartUpload(key: String, upload: MultipartUploadID, parts: [CompletedPart])
        async throws(ObjectStoreError) -> ETag?
    {
        _ = try await wrapped.completeMultipartUpload(key: key, upload: upload, parts: parts)
        if deletesTheObject { try await wrapped.delete(key: key) }
        throw .client(ClientError(kind: .connectionReset, detail: "reset after the commit (test)"))
    }

    func list(_ request: ListRequest) async throws(ObjectStoreError) -> ListPage { try await wrapped.list(request) }

    func head(key: String) async throws(ObjectStoreError) -> ObjectInfo { try await wrapped.head(key: key) }

    func get(key: String, range: ByteRange?, ifMatch: ETag?) async throws(ObjectStoreError) -> [UInt8] {
        try await wrapped.get(key: key, range: range, ifMatch: ifMatch)
    }
}
