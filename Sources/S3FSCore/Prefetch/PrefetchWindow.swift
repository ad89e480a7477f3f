// PrefetchWindow: how far ahead of a sequential reader to fetch.
//
// It starts at the kernel's own read-ahead plus one read, and doubles each time the reader catches up with
// read-ahead that has not arrived yet (it was starved: the window is too short for the link's latency and
// bandwidth), up to the per-handle cap (--max-prefetch). The memory budget may cut it shorter at any time.
struct PrefetchWindow: Sendable {
    private(set) var bytes: UInt64
    let maximum: UInt64

    init(initial: UInt64, maximum: UInt64) {
        self.bytes = min(initial, maximum)
        self.maximum = maximum
    }

    mutating func starved() {
        bytes = min(maximum, bytes * 2)
    }
}
