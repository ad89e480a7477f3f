// BlockBuffer: one block's bytes, filled by a GET while readers wait for the part they need.
//
// The store's I/O thread appends chunks as they arrive (the only writer); a reader waits until the bytes it
// needs are in, then reads them in place (bytes below `received` never change again), so a read of the first
// kilobyte of a block is answered as soon as that kilobyte arrives, and the block is served from where it was
// written without another copy. Memory comes from the MemoryBudget and goes back to it when the last holder of
// the buffer lets go (deinit), whether the cache still lists it or not.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ObjectStore
import Synchronization

@safe final class BlockBuffer: ByteSink, @unchecked Sendable {
    // SAFETY: `storage` is written only by `receive` (one transfer, one thread at a time) at offsets at or above
    // `state.received`, and read only below `state.received`, which is published under the Mutex. It belongs to this
    // buffer alone from init until deinit gives it back to the pool, and never leaves it except as `bytes(_:)`.
    enum Outcome: Sendable {
        case pending
        case complete
        case failed(FSError)
    }

    private struct Waiter {
        let needed: Int
        let continuation: CheckedContinuation<Result<Void, FSError>, Never>
    }

    private struct State {
        var received = 0
        var outcome = Outcome.pending
        var waiters: [Waiter] = []
        var wasRead = false
        /// Handles that asked for this block as read-ahead and still may need it.
        var readAheadHandles = 0
        /// Bytes handed to the kernel's page cache from this block (by any handle; overlaps count twice).
        var delivered = 0
        /// The cache tier holds a good copy (this block came from it or was stored in it).
        var isInTier = false
    }

    let key: BlockKey
    /// Where the block starts in the object.
    let objectOffset: UInt64
    let length: Int
    /// The FetchScheduler ticket of this block's GET (to promote it when a reader starts waiting).
    let ticket: UInt64
    private let storage: UnsafeMutableRawBufferPointer
    private let pool: BlockMemoryPool
    private let state = Mutex(State())
    private let fetch = Mutex<Task<Void, Never>?>(nil)

    /// The bytes this block holds in the budget (its buffer may be longer than the block).
    var capacity: Int { unsafe storage.count }

    /// `storage` comes from `pool`, its bytes reserved in the budget; it goes back to the pool in deinit.
    init(
        key: BlockKey, objectOffset: UInt64, length: Int, ticket: UInt64, storage: UnsafeMutableRawBufferPointer,
        pool: BlockMemoryPool
    ) {
        precondition(length <= storage.count)
        self.key = key
        self.objectOffset = objectOffset
        self.length = length
        self.ticket = ticket
        unsafe self.storage = storage
        self.pool = pool
    }

    deinit {
        // SAFETY: the last holder let go, so nobody reads `storage` any more; it goes back exactly once, here.
        unsafe pool.recycle(storage)
    }

    /// The task running this block's GET, so read-ahead nobody needs any more can be called off.
    func attach(_ task: Task<Void, Never>) {
        fetch.withLock { $0 = task }
    }

    /// A handle asked for this block as read-ahead: closing another handle that did too must not call it off.
    func wantedAsReadAhead() {
        state.withLock { $0.readAheadHandles += 1 }
    }

    /// A handle's reader went past this block: that handle no longer wants it (nothing is called off).
    func noLongerReadAhead() {
        state.withLock { $0.readAheadHandles = max(0, $0.readAheadHandles - 1) }
    }

    /// A handle that asked for this block as read-ahead closed: calls off the GET if it is still running, no
    /// other handle asked for it and nobody is waiting for its bytes.
    func cancelIfUnwanted() {
        let unwanted = state.withLock { state -> Bool in
            state.readAheadHandles = max(0, state.readAheadHandles - 1)
            guard state.readAheadHandles == 0, state.waiters.isEmpty, case .pending = state.outcome else {
                return false
            }
            return true
        }
        if unwanted { fetch.withLock { $0?.cancel() } }
    }

    // MARK: Writer side (the store's I/O thread)

    func receive(_ chunk: UnsafeRawBufferPointer) {
        let start = state.withLock { $0.received }
        let count = min(chunk.count, length - start)
        guard count > 0, let source = chunk.baseAddress else { return }
        // SAFETY: start + count <= length <= storage.count, and no reader looks at bytes at or above `received`.
        unsafe storage.baseAddress!.advanced(by: start).copyMemory(from: source, byteCount: count)
        let ready = state.withLock { state in
            let received = start + count
            state.received = received
            return Self.takeWaiters(&state) { $0.needed <= received }
        }
        for waiter in ready { waiter.continuation.resume(returning: .success(())) }
    }

    /// Fills the whole block at once from a lower cache tier: `load` writes `length` bytes into the memory it is
    /// given and says whether they are good. True (the block complete) when they are; false leaves the block empty,
    /// for a GET to fill. Only for a block nothing has been received into yet.
    func load(_ load: (UnsafeMutableRawBufferPointer) -> Bool) -> Bool {
        precondition(state.withLock { $0.received } == 0, "loading into a block that is being filled")
        // SAFETY: nobody reads below `received`, which is 0 until the load is known good.
        guard unsafe load(UnsafeMutableRawBufferPointer(rebasing: storage[0..<length])) else { return false }
        state.withLock { $0.received = length }
        settle(.complete)
        return true
    }

    /// The transfer ended; a short body is an error.
    func finish() {
        let complete = state.withLock { $0.received == length }
        if complete {
            settle(.complete)
        } else {
            settle(.failed(FSError(errno: EIO, "GET of \(key.key) ended early", logLevel: .error)))
        }
    }

    func fail(_ error: FSError) {
        settle(.failed(error))
    }

    private func settle(_ outcome: Outcome) {
        let waiters = state.withLock { state in
            state.outcome = outcome
            return Self.takeWaiters(&state) { _ in true }
        }
        let result: Result<Void, FSError>
        switch outcome {
        case .failed(let error): result = .failure(error)
        case .complete, .pending: result = .success(())
        }
        for waiter in waiters { waiter.continuation.resume(returning: result) }
        // A complete block can be evicted: a demand read waiting for memory may try again.
        if case .complete = outcome { pool.budget.notify() }
    }

    // MARK: Reader side

    /// Waits until the first `needed` bytes are in (or the fetch failed).
    func waitFor(_ needed: Int) async throws(FSError) {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, FSError>, Never>) in
            let immediate: Result<Void, FSError>? = state.withLock { state in
                state.wasRead = true
                if state.received >= needed { return .success(()) }
                if case .failed(let error) = state.outcome { return .failure(error) }
                if case .complete = state.outcome { return .success(()) }
                state.waiters.append(Waiter(needed: needed, continuation: continuation))
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
        try result.get()
    }

    /// The bytes [start, end) of the block; they must have been waited for.
    func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        precondition(range.upperBound <= state.withLock { $0.received }, "reading bytes not yet received")
        // SAFETY: bytes below `received` never change again; the caller keeps this block alive while it reads them.
        return unsafe UnsafeRawBufferPointer(rebasing: storage[range])
    }

    /// Counts `count` bytes handed to the page cache; true once, when they add up to the whole block.
    func noteDelivered(_ count: Int) -> Bool {
        state.withLock { state in
            let before = state.delivered
            state.delivered += count
            return before < length && state.delivered >= length
        }
    }

    /// A reader used bytes that were already in, without waiting.
    func noteRead() {
        state.withLock { $0.wasRead = true }
    }

    /// Whether the first `needed` bytes are already in.
    func has(_ needed: Int) -> Bool { state.withLock { $0.received >= needed } }

    var outcome: Outcome { state.withLock { $0.outcome } }
    var isComplete: Bool { if case .complete = outcome { true } else { false } }
    var isFailed: Bool { if case .failed = outcome { true } else { false } }
    /// Whether any reader has used this block (prefetched blocks nobody read yet are evicted last).
    var wasRead: Bool { state.withLock { $0.wasRead } }

    /// Whether the cache tier holds a good copy, so memory need not keep this one.
    var isInTier: Bool { state.withLock { $0.isInTier } }

    /// The cache tier now holds a good copy.
    func keptInTier() {
        state.withLock { $0.isInTier = true }
    }
    var hasWaiters: Bool { state.withLock { !$0.waiters.isEmpty } }

    private static func takeWaiters(_ state: inout State, where ready: (Waiter) -> Bool) -> [Waiter] {
        let taken = state.waiters.filter(ready)
        if !taken.isEmpty { state.waiters.removeAll(where: ready) }
        return taken
    }
}
