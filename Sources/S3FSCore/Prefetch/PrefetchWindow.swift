// PrefetchWindow: how far ahead of a sequential reader to fetch.
//
// It starts at the kernel's own read-ahead plus one read, and doubles each time the reader catches up with
// read-ahead that has not arrived yet (it was starved), up to the per-handle cap (--max-prefetch), as long as
// doubling pays. Each size is judged once the reader has gone through a window of it: when the reader spent most of
// that time waiting, it was held back by the link or the server, and its rate then is what that size delivers. A
// doubling whose rate is not at least a fifth above the size before is taken back (the server, not the window, is
// the limit: a larger window would only hold more memory, each fresh block costing page faults and zeroing, for the
// same bytes per second), and the window tries a larger size again only after the reader has gone through 16
// windows, so a link that got faster is still found. A reader that waited little (one that reads at its own pace
// and was caught by a slow GET) tells nothing about the rate: the window doubles, as it always did. The memory
// budget may cut it shorter at any time.
struct PrefetchWindow: Sendable {
    private(set) var bytes: UInt64
    let maximum: UInt64

    /// Where the reader was and when the window last changed size, the size before, and the rate that size
    /// delivered (nil: not known, so the next judgement can only grow).
    private var lastChange: (position: UInt64, at: ContinuousClock.Instant, sizeBefore: UInt64, rateBefore: Double?)?
    /// How long the reader waited for blocks since the last change.
    private var waitedSinceChange: Duration = .zero
    /// After a doubling that did not pay, the position before which the window does not grow again.
    private var probeAgainAt: UInt64 = 0

    /// The rate a doubling must add to be kept.
    static let worthwhileGain = 1.2
    /// Windows the reader goes through before a size that did not pay is tried again.
    static let windowsBeforeProbingAgain: UInt64 = 16

    init(initial: UInt64, maximum: UInt64) {
        self.bytes = min(initial, maximum)
        self.maximum = maximum
    }

    /// The reader waited `duration` for a block.
    mutating func waited(_ duration: Duration) {
        waitedSinceChange += duration
    }

    /// The reader, at `position`, waits for read-ahead that has not arrived yet.
    mutating func starved(at position: UInt64, now: ContinuousClock.Instant = .now) {
        guard let last = lastChange else { return resize(to: bytes * 2, at: position, now: now, rateBefore: nil) }
        guard position >= probeAgainAt, position >= last.position + bytes else { return }
        let elapsed = now - last.at
        guard waitedSinceChange * 2 >= elapsed, elapsed > .zero else {
            return resize(to: bytes * 2, at: position, now: now, rateBefore: nil)
        }
        let rate = Double(position - last.position) / (elapsed / .seconds(1))
        if let before = last.rateBefore, rate < before * Self.worthwhileGain {
            resize(to: last.sizeBefore, at: position, now: now, rateBefore: nil)
            probeAgainAt = position + Self.windowsBeforeProbingAgain * bytes
        } else if bytes < maximum {
            resize(to: bytes * 2, at: position, now: now, rateBefore: rate)
        }
    }

    private mutating func resize(to size: UInt64, at position: UInt64, now: ContinuousClock.Instant, rateBefore: Double?) {
        lastChange = (position, now, bytes, rateBefore)
        bytes = min(maximum, size)
        waitedSinceChange = .zero
    }
}
