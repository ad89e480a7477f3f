// AccessPattern: is this handle being read front to back, or at random?
//
// Sequential: each read starts near where the previous ones ended. "Near" tolerates the small reorderings that
// asynchronous kernel read-ahead produces (several requests in flight, answered out of order) and small skips.
// A first read within the tolerance of offset 0 starts sequential (the kernel sends a file's first read and its
// read-ahead at once, and any of them may reach the daemon first); a first read elsewhere starts random. Two reads
// in a row that break the pattern switch to random; two in a row that follow it switch back.
struct AccessPattern: Sendable {
    enum Mode: Sendable, Equatable { case sequential, random }

    private(set) var mode: Mode?
    /// The end of the furthest read so far.
    private var frontier: UInt64 = 0
    /// The end of the previous read: after random reads, a run that starts anywhere follows it (the frontier may
    /// be far ahead, e.g. after a look at the end of the file).
    private var lastEnd: UInt64 = 0
    private var streak = 0
    let tolerance: UInt64

    init(tolerance: UInt64) {
        self.tolerance = tolerance
    }

    mutating func observe(offset: UInt64, size: UInt64) -> Mode {
        defer {
            frontier = max(frontier, offset + size)
            lastEnd = offset + size
        }
        guard let current = mode else {
            mode = offset <= tolerance ? .sequential : .random
            return mode!
        }
        let follows = (offset + tolerance >= frontier && offset <= frontier + tolerance)
            || (offset >= lastEnd && offset <= lastEnd + tolerance)
        let agrees = (current == .sequential) == follows
        streak = agrees ? 0 : streak + 1
        if streak >= 2 {
            mode = follows ? .sequential : .random
            streak = 0
        }
        return mode!
    }
}
