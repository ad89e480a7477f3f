// DatasetReadAhead: fetches the files of a dataset directory ahead of the job reading it, across files.
//
// Each handle's first read of an object-backed file reports (directory, name) here — a file served from the
// kernel's page cache never reaches the daemon and costs nothing. Once a directory has seen a few such reads, it
// gets a DatasetWalk over the files its listing holds, and from then on every reported read, and every prefetch
// that lands, tops up the prefetch the walk allows: whole small files, the first block of large ones, as
// read-ahead-priority GETs into the block cache (below demand reads in the scheduler), at most `maxInFlight` at a
// time, holding at most `memoryShare` bytes of unread prefetch. Prefetch memory comes only from the budget's
// spare room or from blocks already read (MemoryBlockCache never lets read-ahead evict unread blocks), so it
// never pushes out what a reader is using; when there is no room it stops and the next reported read resumes it.
// A reader that opens a prefetched file finds its block listed in the cache and sends no request. Files the cache
// tier holds are left to their readers: a local read is quick, and fetching them ahead would only fill memory.
import Logging
import ObjectStore

final class DatasetReadAhead: Sendable {
    /// What the block cache and the metrics see: bytes prefetched, and of those, bytes a reader then used.
    struct Counters: Sendable, Equatable {
        var prefetchedBytes: UInt64 = 0
        var usedBytes: UInt64 = 0
        var prefetchedFiles: UInt64 = 0
        var usedFiles: UInt64 = 0
    }

    private static let maxReadsBeforeWalk = 256

    private struct Directory {
        var walk: DatasetWalk?
        var reads = 0
        /// Files read before the walk could start (the directory not listed yet), so it does not fetch them again.
        var readBeforeWalk: [[UInt8]] = []
        var firstRead: ContinuousClock.Instant
        var lastUse: ContinuousClock.Instant
        var inFlight = 0

        /// Counts a handle's first read of `name`: whether the directory should get its walk now, and the bytes
        /// of a prefetch the read used.
        mutating func noteRead(_ name: [UInt8], at now: ContinuousClock.Instant) -> (needsWalk: Bool, used: UInt64?) {
            lastUse = now
            reads += 1
            // Until the directory has been listed (DirectoryWalks lists it once lookups show it is being walked),
            // each read asks the inode table again; that costs a flag check.
            guard walk != nil else {
                if readBeforeWalk.count < maxReadsBeforeWalk { readBeforeWalk.append(name) }
                return (reads >= DatasetWalk.minimumReads, nil)
            }
            guard case .hit(let bytes) = walk!.noteRead(name) else { return (false, nil) }
            return (false, bytes)
        }

        /// The files to prefetch now, marked in flight.
        mutating func choosePrefetch(
            at now: ContinuousClock.Instant, fetchLatency: Double, memoryShare: UInt64, maxInFlight: Int
        ) -> [DatasetWalk.File] {
            guard walk != nil else { return [] }
            let elapsed = max(0.1, (now - firstRead) / .seconds(1))
            let allowance = walk!.allowance(
                consumedPerSecond: Double(walk!.consumedBytes) / elapsed, fetchLatency: fetchLatency, cap: memoryShare)
            let chosen = walk!.nextToPrefetch(allowance: allowance, limit: maxInFlight - inFlight)
            inFlight += chosen.count
            return chosen
        }
    }

    private struct State {
        var directories: [InodeNumber: Directory] = [:]
        var counters = Counters()
        /// Seconds a prefetch takes, smoothed.
        var fetchLatency = 0.05
    }

    let fetcher: BlockFetcher
    let memoryShare: UInt64
    let maxInFlight: Int
    /// The files of a directory in listing order, from the inode table (nil: the table holds no listing).
    let listFiles: @Sendable (InodeNumber) -> [DatasetWalk.File]?
    private let state = SleepingLock(State())
    static let maxDirectories = 1024

    init(
        fetcher: BlockFetcher, memoryShare: UInt64, maxInFlight: Int,
        listFiles: @escaping @Sendable (InodeNumber) -> [DatasetWalk.File]?
    ) {
        self.fetcher = fetcher
        self.memoryShare = memoryShare
        self.maxInFlight = max(1, maxInFlight)
        self.listFiles = listFiles
    }

    var counters: Counters { state.withLock { $0.counters } }

    /// A handle's first read of file `name` in `directory`.
    func noteRead(directory: InodeNumber, name: String) {
        let now = ContinuousClock.now
        // One hold of the lock per read: note it and choose what to prefetch next.
        let (needsWalk, chosen) = state.withLock { state -> (Bool, [DatasetWalk.File]) in
            if state.directories[directory] == nil {
                Self.makeRoom(&state)
                state.directories[directory] = Directory(firstRead: now, lastUse: now)
            }
            // In place: a copy of the entry would copy its walk's sets (the whole directory) on every read.
            let (needsWalk, usedBytes) = state.directories[directory]!.noteRead(Array(name.utf8), at: now)
            if let usedBytes {
                state.counters.usedBytes += usedBytes
                state.counters.usedFiles += 1
            }
            return (needsWalk, choosePrefetch(in: directory, at: now, &state))
        }
        if needsWalk {
            startWalk(directory)
            pump(directory)
        } else {
            start(chosen, in: directory)
        }
    }

    /// Forgets a directory the kernel no longer holds.
    func forget(_ directory: InodeNumber) {
        _ = state.withLock { $0.directories.removeValue(forKey: directory) }
    }

    private func startWalk(_ directory: InodeNumber) {
        guard let files = listFiles(directory) else { return }
        state.withLock { state in
            guard let entry = state.directories[directory], entry.walk == nil else { return }
            var walk = DatasetWalk(files: files)
            for name in entry.readBeforeWalk { _ = walk.noteRead(name) }
            state.directories[directory]?.walk = walk
            state.directories[directory]?.readBeforeWalk = []
        }
    }

    /// Starts the prefetches the walk allows now.
    private func pump(_ directory: InodeNumber) {
        let now = ContinuousClock.now
        start(state.withLock { choosePrefetch(in: directory, at: now, &$0) }, in: directory)
    }

    /// The files of `directory` to prefetch now, counted as prefetched and in flight.
    private func choosePrefetch(
        in directory: InodeNumber, at now: ContinuousClock.Instant, _ state: inout State
    ) -> [DatasetWalk.File] {
        let fetchLatency = state.fetchLatency
        let chosen =
            state.directories[directory]?.choosePrefetch(
                at: now, fetchLatency: fetchLatency, memoryShare: memoryShare, maxInFlight: maxInFlight) ?? []
        for file in chosen {
            state.counters.prefetchedBytes += file.prefetchBytes
            state.counters.prefetchedFiles += 1
        }
        return chosen
    }

    private func start(_ chosen: [DatasetWalk.File], in directory: InodeNumber) {
        // A file the cache tier holds is left to its reader: reading it from local disk is quick, and fetching it
        // ahead would fill memory (pages faulted in fresh) with what the disk serves anyway. Epoch 2 of small files
        // from a warm tier ran 10-25% slower with them fetched ahead.
        var chosen = chosen
        var inTier: [DatasetWalk.File] = []
        chosen.removeAll { file in
            guard fetcher.tierMayHold(0, of: file.object) else { return false }
            inTier.append(file)
            return true
        }
        if !inTier.isEmpty { withdraw(inTier, in: directory) { $0.abandon($1) } }
        for (index, file) in chosen.enumerated() {
            guard let block = fetcher.block(0, of: file.object, priority: .prefetch, tierLacksIt: true) else {
                // No memory to spare: these wait for the next read to free some.
                withdraw(chosen[index...], in: directory) { $0.unprefetch($1) }
                return
            }
            Task { [self] in
                let started = ContinuousClock.now
                let landed = (try? await block.waitFor(block.length)) != nil
                landedPrefetch(file, in: directory, seconds: (.now - started) / .seconds(1), landed: landed)
            }
        }
    }

    /// Takes back `files`, chosen for prefetch but not fetched: out of the counters and the directory's in-flight
    /// count, and marked in its walk by `mark` (given up for this epoch, or a candidate again).
    private func withdraw(
        _ files: some Collection<DatasetWalk.File>, in directory: InodeNumber,
        marking mark: (inout DatasetWalk, [UInt8]) -> Void
    ) {
        state.withLock { state in
            for file in files {
                if state.directories[directory]?.walk != nil { mark(&state.directories[directory]!.walk!, file.name) }
                state.counters.prefetchedBytes -= file.prefetchBytes
                state.counters.prefetchedFiles -= 1
            }
            state.directories[directory]?.inFlight -= files.count
        }
    }

    private func landedPrefetch(_ file: DatasetWalk.File, in directory: InodeNumber, seconds: Double, landed: Bool) {
        guard landed else {
            state.withLock { state in
                state.directories[directory]?.inFlight -= 1
                state.directories[directory]?.walk?.abandon(file.name)
            }
            return
        }
        let now = ContinuousClock.now
        let chosen = state.withLock { state in
            state.directories[directory]?.inFlight -= 1
            state.fetchLatency = state.fetchLatency * 0.9 + seconds * 0.1
            return choosePrefetch(in: directory, at: now, &state)
        }
        start(chosen, in: directory)
    }

    /// Keeps the table bounded: the directory used longest ago goes.
    private static func makeRoom(_ state: inout State) {
        guard state.directories.count >= maxDirectories,
            let oldest = state.directories.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
        else { return }
        state.directories[oldest] = nil
    }
}
