// StallHistogram: how long reads waited, counted in LatencyBuckets, readable in-process. Each read adds 1 to one
// bucket with a relaxed atomic (the counters live in one allocation: Atomic cannot sit in an Array); a reader takes
// snapshots and subtracts an older one for a window ("stall p99 over the last minute" in `s3mount status`). The
// Prometheus histogram of the same values is a swift-metrics Timer recorded beside it (ReadStats).
import Synchronization

public final class StallHistogram: @unchecked Sendable {
    // SAFETY (unchecked Sendable): `counts` is allocated and initialised once in init, freed in deinit, and only
    // touched through Atomic operations in between.
    private let counts: UnsafeMutablePointer<Atomic<UInt64>>
    private let bucketCount = LatencyBuckets.upperBounds.count + 1

    public init() {
        counts = .allocate(capacity: bucketCount)
        for index in 0..<bucketCount { (counts + index).initialize(to: Atomic(0)) }
    }

    deinit {
        counts.deinitialize(count: bucketCount)
        counts.deallocate()
    }

    public func record(seconds: Double) {
        counts[LatencyBuckets.index(of: seconds)].add(1, ordering: .relaxed)
    }

    /// The count of every bucket now.
    public var snapshot: [UInt64] {
        (0..<bucketCount).map { counts[$0].load(ordering: .relaxed) }
    }
}
