import Synchronization

/// An open directory: the listing pass that reading it started (at offset 0: opendir, rewinddir) and the window of
/// its entries not yet handed to the kernel. Entry i of the pass has offset i + 3 after it ("." and ".." come
/// first); the kernel reads forward, so entries before the offset it asks for are dropped, and a directory of a
/// million names holds about one page of them. An offset before the window (seekdir backwards) starts the pass
/// again. The kernel serialises readdir calls on one open directory.
final class DirectoryHandle: Sendable {
    struct Pass: Sendable {
        var stream: DirectoryStream
        /// Index in the pass of `window.first`.
        var windowStart = 0
        var window: [ResolvedEntry] = []
        /// The inode table's eviction count when the pass began: a complete pass may answer lookups only if none of
        /// its names was evicted meanwhile.
        var evictionsAtStart: UInt64
        var startedAt: ContinuousClock.Instant
        /// Entries the pass has produced so far.
        var produced: Int { windowStart + window.count }

        /// Forgets the entries before `index`, which the kernel has taken.
        mutating func drop(before index: Int) {
            let count = min(max(0, index - windowStart), window.count)
            window.removeFirst(count)
            windowStart += count
        }
    }

    let inode: InodeNumber
    private let state = Mutex<Pass?>(nil)

    init(inode: InodeNumber) { self.inode = inode }

    var pass: Pass? { state.withLock { $0 } }

    func replacePass(_ pass: Pass?) { state.withLock { $0 = pass } }
}
