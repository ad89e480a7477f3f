// ObservedCounter: a swift-metrics Counter that the process can also read back. swift-metrics handles are
// write-only (the Prometheus backend reads them at scrape time, and with no backend bootstrapped they do nothing),
// but `s3mount status` needs some totals whether or not --metrics-address is given: those counters keep their own
// relaxed atomic beside the exported handle. One atomic add plus what the handle costs; no lock, no allocation.
import CoreMetrics
import Synchronization

public final class ObservedCounter: Sendable {
    private let total = Atomic<UInt64>(0)
    private let exported: Counter

    public init(label: String, dimensions: [(String, String)] = []) {
        exported = Counter(label: label, dimensions: dimensions)
    }

    public func add(_ amount: UInt64) {
        total.add(amount, ordering: .relaxed)
        exported.increment(by: amount)
    }

    public func increment() { add(1) }

    public var value: UInt64 { total.load(ordering: .relaxed) }
}
