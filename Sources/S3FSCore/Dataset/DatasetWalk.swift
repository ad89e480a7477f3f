// DatasetWalk: what a job reading the files of one directory has done so far, and how far ahead of it to fetch.
//
// A data loader reads a dataset directory file by file: in listing order (possibly split across workers, so the
// reads arrive out of order within a moving window), or shuffled (every file once per epoch, in any order), or it
// picks a few files at random. Nothing tells these apart in advance, so the lead is earned:
//
// - Dense (listing order): most files below the furthest one read have been read. The next files are predictable:
//   the unread ones below the furthest read (other workers' batches) and, beyond it, what the job consumes during
//   a few fetch latencies, at least `minimumLeadFiles` files.
// - Sparse (any order): which file comes next is not predictable, only that a job covering more of the directory
//   will most likely read all of it. Unused prefetch is held to a tenth of what the job has read until it has
//   covered a tenth of the directory, to what it has read until it has covered a quarter, and beyond that to the
//   whole rest of the directory (within the memory share). A job that reads 5 % of the files at random therefore
//   wastes at most a tenth of what it read, while a shuffled epoch is read from memory for three quarters of it.
//
// Reads of a file the walk has already counted start a new epoch once half the directory has been read (the
// kernel's page cache no longer holds the files, or reads would not arrive here); before that they are ignored
// (several handles of one file). This type is a value with no clock and no I/O: DatasetReadAhead drives it.
struct DatasetWalk: Sendable {
    struct File: Sendable, Equatable {
        var name: [UInt8]
        var object: ObjectVersion
        /// Bytes a prefetch of this file fetches: the whole of a small file, the first block of a large one.
        var prefetchBytes: UInt64
    }

    /// The directory's files in listing order.
    private(set) var files: [File]
    private var positions: [[UInt8]: Int]
    /// Files read this epoch, by position.
    private(set) var read: Set<Int> = []
    /// Prefetched files not read yet, by position, with their bytes.
    private(set) var prefetched: [Int: UInt64] = [:]
    private(set) var unusedBytes: UInt64 = 0
    /// Bytes the job has read from this directory (first blocks of large files count their prefetch size).
    private(set) var consumedBytes: UInt64 = 0
    private(set) var furthest = -1
    /// The next position to consider for prefetch (everything before it is read or prefetched).
    private var cursor = 0

    static let minimumReads = 4
    static let minimumLeadFiles = 8

    init(files: [File]) {
        self.files = files
        self.positions = Dictionary(files.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    enum ReadOutcome: Equatable {
        /// Not a file of the listing, or a second handle of a counted file.
        case ignored
        case missed
        /// The file had been prefetched: its bytes were used.
        case hit(UInt64)
    }

    /// The job's first read of a handle on file `name`.
    mutating func noteRead(_ name: [UInt8]) -> ReadOutcome {
        guard let position = positions[name] else { return .ignored }
        if read.contains(position) {
            guard read.count * 2 >= files.count else { return .ignored }
            read = []
            furthest = -1
            cursor = 0
        }
        read.insert(position)
        furthest = max(furthest, position)
        consumedBytes += files[position].prefetchBytes
        guard let bytes = prefetched.removeValue(forKey: position), bytes > 0 else { return .missed }
        unusedBytes -= bytes
        return .hit(bytes)
    }

    /// Whether the files read so far are the front of the listing (listing order, maybe split among workers).
    var isDense: Bool {
        read.count >= Self.minimumReads && read.count * 2 >= furthest + 1
    }

    /// How many unused prefetched bytes the walk may hold, given what the job consumes per second and how long a
    /// prefetch takes, within `cap`.
    func allowance(consumedPerSecond: Double, fetchLatency: Double, cap: UInt64) -> UInt64 {
        guard read.count >= Self.minimumReads, !files.isEmpty else { return 0 }
        let wanted: UInt64
        if isDense {
            // The files below the furthest read that are still unread (other workers' batches, about to be read),
            // and a lead beyond it.
            let meanFile = consumedBytes / UInt64(read.count)
            let byRate = UInt64(max(0, consumedPerSecond * fetchLatency * 4))
            let spread = UInt64(furthest + 1 - read.count) * meanFile
            wanted = spread + max(meanFile * UInt64(Self.minimumLeadFiles), byRate)
        } else {
            let coverage = Double(read.count) / Double(files.count)
            if coverage < 0.1 {
                wanted = consumedBytes / 10
            } else if coverage < 0.25 {
                wanted = consumedBytes
            } else {
                wanted = .max
            }
        }
        return min(wanted, cap)
    }

    /// The next files to prefetch within `allowance`: unread and not prefetched, in listing order (the gaps below
    /// the furthest read first: in listing order those are the files other workers are about to read).
    mutating func nextToPrefetch(allowance: UInt64, limit: Int) -> [File] {
        var chosen: [File] = []
        var budget = allowance > unusedBytes ? allowance - unusedBytes : 0
        var position = cursor
        while position < files.count, chosen.count < limit {
            defer { position += 1 }
            if read.contains(position) || prefetched[position] != nil {
                if position == cursor { cursor += 1 }
                continue
            }
            let file = files[position]
            guard file.prefetchBytes <= budget else { break }
            budget -= file.prefetchBytes
            prefetched[position] = file.prefetchBytes
            unusedBytes += file.prefetchBytes
            if position == cursor { cursor += 1 }
            chosen.append(file)
        }
        return chosen
    }

    /// A prefetch failed (the object changed or is gone) or is not needed (the cache tier holds the file): the file
    /// is not tried again this epoch.
    mutating func abandon(_ name: [UInt8]) {
        guard let position = positions[name], let bytes = prefetched[position] else { return }
        prefetched[position] = 0
        unusedBytes -= bytes
    }

    /// A prefetch could not start (no memory): the file is a candidate again.
    mutating func unprefetch(_ name: [UInt8]) {
        guard let position = positions[name], let bytes = prefetched.removeValue(forKey: position) else { return }
        unusedBytes -= bytes
        cursor = min(cursor, position)
    }
}
