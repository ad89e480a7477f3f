// LatencyBuckets: the bucket bounds every duration histogram uses (FUSE operations, read stalls, S3 requests),
// from 0 (a read answered from memory did not wait at all) through the sub-millisecond answers of a cache to the
// 10 s retry budget of a failing endpoint. The Prometheus factory is configured with them, and StallHistogram
// counts in them, so `s3mount status` and a PromQL histogram_quantile() agree.
public enum LatencyBuckets {
    /// Upper bounds in seconds; values above the last one fall in a final unbounded bucket.
    public static let upperBounds: [Double] = [
        0, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]

    /// The bucket `seconds` falls in (the first whose upper bound is at least `seconds`).
    public static func index(of seconds: Double) -> Int {
        upperBounds.firstIndex { seconds <= $0 } ?? upperBounds.count
    }

    /// The `q` quantile of a histogram with `counts` per bucket (upperBounds.count + 1 of them), interpolated
    /// linearly inside its bucket; nil when the histogram is empty. The unbounded bucket answers its lower bound.
    public static func quantile(_ q: Double, counts: [UInt64]) -> Double? {
        let total = counts.reduce(0, +)
        guard total > 0 else { return nil }
        let rank = max(1, q * Double(total))
        var below: UInt64 = 0
        for (index, count) in counts.enumerated() where count > 0 {
            if Double(below + count) >= rank {
                guard index < upperBounds.count else { return upperBounds.last }
                let lower = index == 0 ? 0 : upperBounds[index - 1]
                let fraction = (rank - Double(below)) / Double(count)
                return lower + (upperBounds[index] - lower) * fraction
            }
            below += count
        }
        return upperBounds.last
    }
}
