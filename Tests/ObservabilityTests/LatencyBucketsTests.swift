import Observability
import Testing

@Suite struct LatencyBucketsTests {
    @Test func aZeroStallFallsInTheFirstBucket() {
        #expect(LatencyBuckets.index(of: 0) == 0)
        #expect(LatencyBuckets.index(of: 0.0004) == 1)
        #expect(LatencyBuckets.index(of: 11) == LatencyBuckets.upperBounds.count)
    }

    @Test func quantilesInterpolateInsideTheirBucket() throws {
        var counts = [UInt64](repeating: 0, count: LatencyBuckets.upperBounds.count + 1)
        counts[0] = 98  // answered from memory
        counts[LatencyBuckets.index(of: 0.2)] = 2  // (0.1, 0.25]
        #expect(LatencyBuckets.quantile(0.5, counts: counts) == 0)
        let p99 = try #require(LatencyBuckets.quantile(0.99, counts: counts))
        #expect(p99 > 0.1 && p99 <= 0.25)
    }

    @Test func anEmptyHistogramHasNoQuantile() {
        #expect(LatencyBuckets.quantile(0.5, counts: [0, 0]) == nil)
    }

    @Test func theStallHistogramCountsEachRecordOnce() {
        let histogram = StallHistogram()
        histogram.record(seconds: 0)
        histogram.record(seconds: 0.003)
        histogram.record(seconds: 0.003)
        let counts = histogram.snapshot
        #expect(counts.reduce(0, +) == 3)
        #expect(counts[LatencyBuckets.index(of: 0.003)] == 2)
    }

    @Test func recentErrorsKeepTheLastFew() {
        let errors = RecentErrors(capacity: 2)
        for code in Int32(1)...3 { errors.note(operation: "read", errno: code, message: "m\(code)") }
        #expect(errors.all.map(\.errno) == [2, 3])
    }
}
