// MemoryBudget: one byte count over everything the read pipeline holds — cached blocks, blocks being prefetched
// and buffers of transfers in flight — against one limit (--memory-limit).
//
// Prefetch asks with tryReserve and backs off when the answer is no. A demand read (a process is waiting) that finds
// the budget full after the cache has evicted what it could waits for memory to come back (waitForRoom: a buffer
// freed or pooled, a block completing and so becoming evictable), one waiter woken at a time, and takes it with
// forceReserve only if none came within a deadline; so the overshoot is bounded by stalls, not by how many reads
// arrive at once. Bytes are released when the buffer holding them is freed.
import Synchronization

public final class MemoryBudget: Sendable {
    public let limit: Int
    private let used = Atomic<Int>(0)
    private let peak = Atomic<Int>(0)

    private struct Waiters {
        /// Counts notify() calls, so a waiter that read it before trying does not sleep through one.
        var events: UInt64 = 0
        var nextID: UInt64 = 0
        /// In arrival order; the first is woken by the next event.
        var queue: [(id: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []
    }

    private let waiters = Mutex(Waiters())

    public init(limit: Int) {
        self.limit = limit
    }

    /// Reserves `bytes` if that keeps the total within the limit.
    public func tryReserve(_ bytes: Int) -> Bool {
        var current = used.load(ordering: .relaxed)
        while current + bytes <= limit {
            let (exchanged, original) = used.compareExchange(
                expected: current, desired: current + bytes, ordering: .acquiringAndReleasing)
            if exchanged {
                recordPeak(current + bytes)
                return true
            }
            current = original
        }
        return false
    }

    /// Reserves `bytes` whatever the total; for demand reads that waited in vain only.
    public func forceReserve(_ bytes: Int) {
        recordPeak(used.add(bytes, ordering: .acquiringAndReleasing).newValue)
    }

    public func release(_ bytes: Int) {
        used.subtract(bytes, ordering: .acquiringAndReleasing)
        notify()
    }

    public var usedBytes: Int { used.load(ordering: .relaxed) }
    public var peakBytes: Int { peak.load(ordering: .relaxed) }

    private func recordPeak(_ value: Int) {
        _ = peak.max(value, ordering: .relaxed)
    }

    // MARK: Waiting for room

    /// The count of events so far: read it before trying to reserve, and hand it to waitForRoom after failing.
    var events: UInt64 { waiters.withLock { $0.events } }

    /// Memory may have come back (bytes released, a buffer pooled, a block completed): wakes the first waiter.
    func notify() {
        let first = waiters.withLock { state in
            state.events += 1
            return state.queue.isEmpty ? nil : state.queue.removeFirst().continuation
        }
        first?.resume(returning: true)
    }

    /// Waits for the next event after `events`; true at once if one came already, false when `deadline` passes first.
    func waitForRoom(after events: UInt64, until deadline: ContinuousClock.Instant) async -> Bool {
        let id = waiters.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        let timer = Task { [self] in
            guard (try? await Task.sleep(until: deadline)) != nil else { return }
            let expired = waiters.withLock { state in
                state.queue.firstIndex { $0.id == id }.map { state.queue.remove(at: $0).continuation }
            }
            expired?.resume(returning: false)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let immediate = waiters.withLock { state -> Bool? in
                if state.events != events { return true }
                // The timer may already have looked for this waiter.
                if ContinuousClock.now >= deadline { return false }
                state.queue.append((id, continuation))
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }
}
