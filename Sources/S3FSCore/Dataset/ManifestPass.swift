// ManifestPass: how far a job has got through the files its --prefetch-manifest lists, and which to fetch next.
//
// The manifest is the job's own word on what it reads and in what order, so there is nothing to earn: prefetch
// runs from the front of the list as far as the memory share allows, the moment the mount starts. Reads move the
// pass on: each read entry frees its bytes for the next ones. Several workers read entries out of order within a
// window; a job that reads faster than prefetch pulls the front up to its furthest read (what lies between is
// being read by demand already). An entry left unread far behind the furthest read (the job skipped it) stops
// holding memory. Reading an entry already read this pass starts the next pass (another epoch) once half the
// manifest has been read; before that it is a second handle of one file. A value with no clock and no I/O:
// ManifestReadAhead drives it.
struct ManifestPass: Sendable {
    enum ReadOutcome: Equatable {
        case ignored
        case missed
        /// The entry had been prefetched: its bytes were used.
        case hit(UInt64)
    }

    let count: Int
    /// Entries read this pass.
    private(set) var read: Set<Int> = []
    /// Prefetched entries not read yet, with their bytes.
    private(set) var prefetched: [Int: UInt64] = [:]
    private(set) var unusedBytes: UInt64 = 0
    private(set) var furthestRead = -1
    /// The next entry to consider for prefetch.
    private(set) var front = 0
    /// The furthest read when skipped entries were last looked for.
    private var sweptAt = 0

    /// How far behind the furthest read an unread prefetched entry still counts as about to be read.
    static let skipDistance = 1024

    init(count: Int) {
        self.count = count
    }

    mutating func noteRead(_ position: Int) -> ReadOutcome {
        guard (0..<count).contains(position) else { return .ignored }
        if read.contains(position) {
            guard read.count * 2 >= count else { return .ignored }
            read = []
            furthestRead = -1
            sweptAt = 0
            front = position
            dropPrefetched { _ in true }
        }
        read.insert(position)
        furthestRead = max(furthestRead, position)
        front = max(front, furthestRead + 1)
        if furthestRead - sweptAt >= Self.skipDistance / 8 {
            sweptAt = furthestRead
            let skippedBelow = furthestRead - Self.skipDistance
            dropPrefetched { $0 < skippedBelow }
        }
        guard let bytes = prefetched.removeValue(forKey: position) else { return .missed }
        unusedBytes -= bytes
        return .hit(bytes)
    }

    /// The next entry to fetch, when the unused prefetch is below `allowance`; it counts as prefetched (with
    /// `estimate` bytes until `prefetched(_:bytes:)` says how many) from now on.
    mutating func claim(allowance: UInt64, estimate: UInt64) -> Int? {
        guard unusedBytes < allowance else { return nil }
        while front < count, read.contains(front) || prefetched[front] != nil { front += 1 }
        guard front < count else { return nil }
        defer { front += 1 }
        prefetched[front] = estimate
        unusedBytes += estimate
        return front
    }

    /// The claimed entry's prefetch started: `bytes` are on their way.
    mutating func prefetched(_ position: Int, bytes: UInt64) {
        guard let estimate = prefetched[position] else { return }
        prefetched[position] = bytes
        unusedBytes = unusedBytes - estimate + bytes
    }

    /// The claimed entry is not prefetched after all: it does not exist, or its prefetch failed (`retry`: no
    /// memory right now, so it is a candidate again).
    mutating func release(_ position: Int, retry: Bool) {
        guard let bytes = prefetched.removeValue(forKey: position) else { return }
        unusedBytes -= bytes
        if retry { front = min(front, position) }
    }

    private mutating func dropPrefetched(where stale: (Int) -> Bool) {
        for (position, bytes) in prefetched where stale(position) {
            prefetched[position] = nil
            unusedBytes -= bytes
        }
    }
}
