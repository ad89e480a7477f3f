// RecordStride: is this handle reading fixed-size records at a fixed stride, with gaps between them?
//
// A reader of every k-th record of a records file (a distributed sampler's rank over a TFRecord/array file, one
// column of fixed-size rows, every other frame of a video) reads the same length at offsets that grow by the same
// step. AccessPattern calls that sequential when the gaps are small enough (span read-ahead then fetches the gaps
// too) or random (no read-ahead at all); this type recognises the stride so the next records can be fetched as
// records.
//
// A record is a run of contiguous reads (the kernel splits a large record into several reads, rounds each to
// pages, and concurrent requests may arrive out of order), so a record is known — start and length — when the next
// one begins. Lengths and steps match within `slack` (a page of rounding). Three known records at two matching
// steps, the fourth beginning where the stride puts it, confirm the stride; a record off the stride drops it until
// two steps match again.
struct RecordStride: Sendable, Equatable {
    struct Prediction: Sendable, Equatable {
        /// Bytes from one record's start to the next one's (the mean step of the run).
        var stride: UInt64
        /// The longest record of the run.
        var length: UInt64
        /// Where the record being read now starts, by the stride.
        var current: UInt64
        /// How far each further step may be off: the kernel shows starts rounded down to pages, so the stride is
        /// known within a page divided by the steps seen.
        var errorPerStep: UInt64

        /// Whether gaps make up at least half of the span, so fetching records beats fetching the span.
        var hasGaps: Bool { stride >= 2 * length }

        /// The bytes to fetch for the record `steps` strides after the current one: its predicted extent widened by
        /// the page the kernel may round each way and the stride's error over that many steps.
        func extent(steps: UInt64, objectSize: UInt64) -> Range<UInt64>? {
            let start = current + steps * stride
            guard start < objectSize else { return nil }
            let margin = RecordStride.slack + (steps + 1) * errorPerStep
            return (start > margin ? start - margin : 0)..<min(objectSize, start + length + margin)
        }
    }

    private struct Record: Equatable {
        var start: UInt64
        var end: UInt64
        var length: UInt64 { end - start }
    }

    static let slack: UInt64 = 4096

    /// The record being read.
    private var current: Record?
    /// The last known record before it.
    private var previous: Record?
    /// The first record of the run of equal steps, and how many steps the run has.
    private var runStart: UInt64 = 0
    private var runSteps: UInt64 = 0
    /// Whether every step of the run was the same to the byte (a stride of whole pages: no rounding error).
    private var runIsExact = true
    private var longest: UInt64 = 0

    /// The stride, while the reads follow one.
    private(set) var prediction: Prediction?

    /// Notes a read; returns the stride it confirms or continues, nil when the reads follow none.
    mutating func observe(offset: UInt64, length: UInt64) -> Prediction? {
        let end = offset + length
        if let record = current, end + Self.slack >= record.start, offset <= record.end + Self.slack {
            current = Record(start: min(record.start, offset), end: max(record.end, end))
            return prediction
        }
        defer { current = Record(start: offset, end: end) }
        guard let finished = current, offset > finished.start else {
            previous = nil
            forget()
            return nil
        }
        defer { previous = finished }
        guard let previous, Self.near(finished.length, previous.length) else {
            forget()
            return nil
        }
        let step = finished.start - previous.start
        if runSteps > 0, Self.near(step, meanStep(through: previous.start)) {
            runIsExact = runIsExact && step * runSteps == previous.start - runStart
            runSteps += 1
            longest = max(longest, finished.length)
        } else {
            runStart = previous.start
            runSteps = 1
            runIsExact = true
            longest = max(finished.length, previous.length)
        }
        let stride = meanStep(through: finished.start)
        let expected = finished.start + stride
        guard runSteps >= 2, Self.near(offset, expected) else {
            prediction = nil
            return nil
        }
        prediction = Prediction(
            stride: stride, length: longest, current: expected, errorPerStep: runIsExact ? 0 : Self.slack / runSteps + 1)
        return prediction
    }

    /// The mean step of the run so far, which ends at `last`.
    private func meanStep(through last: UInt64) -> UInt64 {
        (last - runStart + runSteps / 2) / runSteps
    }

    private mutating func forget() {
        runSteps = 0
        longest = 0
        prediction = nil
    }

    private static func near(_ a: UInt64, _ b: UInt64) -> Bool {
        (a > b ? a - b : b - a) <= slack
    }
}
