// MemoryBudget: one byte count over everything the read pipeline holds — cached blocks, blocks being prefetched
// and buffers of transfers in flight — against one limit (--memory-limit).
//
// Prefetch asks with tryReserve and backs off when the answer is no; a demand read (a process is waiting) takes
// what it needs with forceReserve after the cache has evicted what it could, so reads always complete and the
// overshoot is bounded by the demand reads in flight. Bytes are released when the buffer holding them is freed.
import Synchronization

public final class MemoryBudget: Sendable {
    public let limit: Int
    private let used = Atomic<Int>(0)
    private let peak = Atomic<Int>(0)

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

    /// Reserves `bytes` whatever the total; for demand reads only.
    public func forceReserve(_ bytes: Int) {
        recordPeak(used.add(bytes, ordering: .acquiringAndReleasing).newValue)
    }

    public func release(_ bytes: Int) {
        used.subtract(bytes, ordering: .acquiringAndReleasing)
    }

    public var usedBytes: Int { used.load(ordering: .relaxed) }
    public var peakBytes: Int { peak.load(ordering: .relaxed) }

    private func recordPeak(_ value: Int) {
        _ = peak.max(value, ordering: .relaxed)
    }
}
