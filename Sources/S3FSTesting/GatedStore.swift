// GatedStore: wraps a store and holds every GET at a gate until the test lets it through, so tests of
// single-flight, priorities and cancellation decide exactly when each transfer answers.
//
// A GET arrives (it is recorded and the wrapped store is asked for its bytes at once), then waits for the test:
// `release` delivers the body (streamed to the sink in `chunkSize` pieces), `deliverPrefix` streams part of it and
// holds the rest, `fail` throws an error. GETs a pass-through predicate accepts, or all GETs once `open()` was
// called, go through without waiting. Cancellation of the calling task is seen either at once (the gate throws,
// as a store that aborts a transfer immediately would) or only when the test releases the GET
// (`cancellationAtRelease`, like a real transfer whose abort takes effect on its I/O thread later).
// LIST and HEAD are never gated.
import ObjectStore
import Synchronization

public final class GatedStore: WrappingStore {
    /// One GET as the gate sees it.
    public struct Request: Sendable, Hashable, CustomStringConvertible {
        /// Arrival order, from 1.
        public let id: Int
        public let key: String
        public let range: ByteRange?
        public let ifMatch: ETag?

        public var description: String {
            "#\(id) \(key) \(range.map { "\($0.lowerBound)..<\($0.upperBound)" } ?? "all")"
        }
    }

    /// What happens to a held GET.
    public enum Verdict: Sendable {
        /// Stream the next `count` bytes of the body and keep holding the rest.
        case prefix(Int)
        /// Stream the rest of the body and finish.
        case rest
        case fail(ObjectStoreError)
        case cancelled
    }

    /// The error a GET throws when its task was cancelled.
    public static let cancellationError = ObjectStoreError.client(
        ClientError(kind: .other, detail: "transfer cancelled (GatedStore)"))

    private struct Held {
        let request: Request
        var continuation: CheckedContinuation<Verdict, Never>?
        /// A verdict given before the GET parked on its continuation.
        var early: Verdict?
    }

    private struct State {
        var nextID = 1
        var arrivals: [Request] = []
        var held: [Int: Held] = [:]
        var cancelled: [Request] = []
        var completed: [Request] = []
        var failed: [Request] = []
        var isOpen = false
        var inFlight = 0
        var peakInFlight = 0
    }

    public let wrapped: any ObjectStore
    /// GETs that never wait (checked at arrival).
    private let passThrough: Mutex<@Sendable (Request) -> Bool>
    public let chunkSize: Int
    public let cancellationAtRelease: Bool
    private let state = Mutex(State())

    public init(wrapping store: any ObjectStore, chunkSize: Int = 16 << 10, cancellationAtRelease: Bool = false) {
        wrapped = store
        self.chunkSize = max(1, chunkSize)
        self.cancellationAtRelease = cancellationAtRelease
        passThrough = Mutex({ @Sendable _ in false })
    }


    // MARK: - Test controls

    /// GETs accepted by `predicate` (from now on) go through without waiting.
    public func passThrough(where predicate: @escaping @Sendable (Request) -> Bool) {
        passThrough.withLock { $0 = predicate }
    }

    /// Releases every held GET and lets every later one through.
    public func open() {
        let held = state.withLock { state in
            state.isOpen = true
            return Array(state.held.keys)
        }
        for id in held { decide(id, .rest) }
    }

    public func release(_ request: Request) { decide(request.id, .rest) }

    public func deliverPrefix(_ request: Request, bytes: Int) { decide(request.id, .prefix(bytes)) }

    public func fail(_ request: Request, with error: ObjectStoreError) { decide(request.id, .fail(error)) }

    /// Releases every held GET `predicate` accepts; returns them.
    @discardableResult
    public func release(where predicate: (Request) -> Bool) -> [Request] {
        let chosen = held.filter(predicate)
        for request in chosen { release(request) }
        return chosen
    }

    /// Every GET that arrived, oldest first.
    public var arrivals: [Request] { state.withLock { $0.arrivals } }
    /// GETs waiting at the gate now (not yet answered), oldest first.
    public var held: [Request] { state.withLock { $0.held.values.map(\.request).sorted { $0.id < $1.id } } }
    /// GETs that ended because their task was cancelled.
    public var cancelled: [Request] { state.withLock { $0.cancelled } }
    /// GETs that delivered their whole body.
    public var completed: [Request] { state.withLock { $0.completed } }
    /// GETs failed by the test (or by the wrapped store).
    public var failed: [Request] { state.withLock { $0.failed } }
    /// GETs inside the store now, held or streaming.
    public var inFlight: Int { state.withLock { $0.inFlight } }
    /// The most GETs that were inside the store at once.
    public var peakInFlight: Int { state.withLock { $0.peakInFlight } }

    /// GETs of `key` with exactly `range` that arrived so far.
    public func arrivals(of key: String, range: ByteRange?) -> Int {
        state.withLock { $0.arrivals.count { $0.key == key && $0.range == range } }
    }

    // MARK: - ObjectStore

    public func list(_ request: ListRequest) async throws(ObjectStoreError) -> ListPage {
        try await wrapped.list(request)
    }

    public func head(key: String) async throws(ObjectStoreError) -> ObjectInfo {
        try await wrapped.head(key: key)
    }

    public func get(key: String, range: ByteRange?, ifMatch: ETag?) async throws(ObjectStoreError) -> [UInt8] {
        final class Collector: ByteSink, @unchecked Sendable {
            // SAFETY: written by one transfer at a time, read after it ended.
            var bytes: [UInt8] = []
            func receive(_ chunk: UnsafeRawBufferPointer) { bytes += chunk }
        }
        let collector = Collector()
        try await get(key: key, range: range, ifMatch: ifMatch, into: collector)
        return collector.bytes
    }

    public func get(key: String, range: ByteRange?, ifMatch: ETag?, into sink: any ByteSink)
        async throws(ObjectStoreError)
    {
        let request = arrive(key: key, range: range, ifMatch: ifMatch)
        defer { state.withLock { $0.inFlight -= 1 } }
        // Asked at arrival, as a server evaluates If-Match when the request comes in.
        let body: Result<[UInt8], ObjectStoreError>
        do throws(ObjectStoreError) {
            body = .success(try await wrapped.get(key: key, range: range, ifMatch: ifMatch))
        } catch {
            body = .failure(error)
        }
        var sent = 0
        let skipGate = state.withLock { $0.isOpen } || passThrough.withLock { $0 }(request)
        while true {
            let verdict: Verdict = skipGate ? .rest : await wait(request)
            if case .cancelled = verdict { return try end(request, .failure(Self.cancellationError)) }
            if case .fail(let error) = verdict { return try end(request, .failure(error)) }
            if cancellationAtRelease, Task.isCancelled { return try end(request, .failure(Self.cancellationError)) }
            let bytes: [UInt8]
            switch body {
            case .failure(let error): return try end(request, .failure(error))
            case .success(let all): bytes = all
            }
            let upTo: Int
            if case .prefix(let count) = verdict { upTo = min(bytes.count, sent + count) } else { upTo = bytes.count }
            bytes.withUnsafeBytes { raw in
                while sent < upTo {
                    let next = min(upTo, sent + chunkSize)
                    sink.receive(UnsafeRawBufferPointer(rebasing: raw[sent..<next]))
                    sent = next
                }
            }
            if case .rest = verdict { return try end(request, .success(())) }
        }
    }

    // MARK: - Internals

    private func arrive(key: String, range: ByteRange?, ifMatch: ETag?) -> Request {
        state.withLock { state in
            let request = Request(id: state.nextID, key: key, range: range, ifMatch: ifMatch)
            state.nextID += 1
            state.arrivals.append(request)
            state.inFlight += 1
            state.peakInFlight = max(state.peakInFlight, state.inFlight)
            return request
        }
    }

    private func end(_ request: Request, _ result: Result<Void, ObjectStoreError>) throws(ObjectStoreError) {
        state.withLock { state in
            switch result {
            case .success: state.completed.append(request)
            case .failure(let error) where error == Self.cancellationError: state.cancelled.append(request)
            case .failure: state.failed.append(request)
            }
        }
        try result.get()
    }

    /// Parks until the test decides (or the task is cancelled, unless cancellation is seen only at release).
    private func wait(_ request: Request) async -> Verdict {
        let id = request.id
        let park = {
            await withCheckedContinuation { (continuation: CheckedContinuation<Verdict, Never>) in
                let early: Verdict? = self.state.withLock { state in
                    if let verdict = state.held[id]?.early {
                        state.held[id] = nil
                        return verdict
                    }
                    state.held[id, default: Held(request: request)].continuation = continuation
                    return nil
                }
                if let early { continuation.resume(returning: early) }
            }
        }
        // Listed as held before parking, so `held` shows it at once.
        state.withLock { state in
            if state.held[id] == nil { state.held[id] = Held(request: request) }
        }
        if cancellationAtRelease { return await park() }
        return await withTaskCancellationHandler {
            await park()
        } onCancel: {
            self.decide(id, .cancelled)
        }
    }

    private func decide(_ id: Int, _ verdict: Verdict) {
        let continuation: CheckedContinuation<Verdict, Never>? = state.withLock { state in
            guard let held = state.held[id] else { return nil }
            guard let continuation = held.continuation else {
                if held.early == nil { state.held[id]?.early = verdict }
                return nil
            }
            state.held[id] = nil
            return continuation
        }
        continuation?.resume(returning: verdict)
    }
}
