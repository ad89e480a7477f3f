// ManifestReadAhead: fetches the files a --prefetch-manifest lists, in its order, ahead of the job reading them.
//
// From the moment the mount starts, one driver task at a time walks the manifest (ManifestPass says which entry is
// next and whether the memory share has room): it resolves the entry's ETag and size from its directory's
// listing (one LIST per directory, shared by every entry in it: ManifestListings), and starts a read-ahead GET of
// the whole of a small file or the first block of a large one into the block cache, at most `maxInFlight` at a
// time. A handle's first read of a listed file moves the pass on and wakes the driver. Entries that do not exist
// are counted and reported once. Prefetch memory comes only from the budget's spare room or from blocks already
// read (MemoryBlockCache never lets read-ahead evict unread blocks), so it never pushes out what a reader uses.
import Logging
import ObjectStore
import Synchronization

final class ManifestReadAhead: Sendable {
    struct Counters: Sendable, Equatable {
        var entries: UInt64 = 0
        var prefetchedFiles: UInt64 = 0
        var prefetchedBytes: UInt64 = 0
        var usedFiles: UInt64 = 0
        var usedBytes: UInt64 = 0
        /// Entries that name no object (reported once, in the log).
        var missing: UInt64 = 0
    }

    private struct State {
        var pass: ManifestPass
        var inFlight = 0
        var driving = false
        var counters = Counters()
    }

    /// The manifest's object keys, in the order the job reads them.
    let keys: [String]
    private let positions: [String: Int]
    let fetcher: BlockFetcher
    let listings: ManifestListings
    let memoryShare: UInt64
    let maxInFlight: Int
    let logger: Logger
    private let state: Mutex<State>
    private let warnedMissing = Atomic<Bool>(false)

    init(keys: [String], fetcher: BlockFetcher, memoryShare: UInt64, maxInFlight: Int, logger: Logger) {
        self.keys = keys
        self.positions = Dictionary(keys.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        self.fetcher = fetcher
        self.listings = ManifestListings(store: fetcher.store)
        self.memoryShare = memoryShare
        self.maxInFlight = max(1, maxInFlight)
        self.logger = logger
        var counters = Counters()
        counters.entries = UInt64(keys.count)
        self.state = Mutex(State(pass: ManifestPass(count: keys.count), counters: counters))
    }

    var counters: Counters { state.withLock { $0.counters } }

    /// Whether nothing is being resolved or fetched.
    var isIdle: Bool { state.withLock { !$0.driving && $0.inFlight == 0 } }

    /// Starts prefetching from the top of the manifest.
    func start() { wake() }

    /// A handle's first read of the object `key`.
    func noteRead(key: String) {
        guard let position = positions[key] else { return }
        state.withLock { state in
            if case .hit(let bytes) = state.pass.noteRead(position) {
                state.counters.usedFiles += 1
                state.counters.usedBytes += bytes
            }
        }
        wake()
    }

    /// Starts the driver unless it is running.
    private func wake() {
        let start = state.withLock { state -> Bool in
            guard !state.driving else { return false }
            state.driving = true
            return true
        }
        if start { Task { await drive() } }
    }

    private func drive() async {
        while let position = claim() {
            let object: ObjectVersion
            switch await listings.object(keys[position]) {
            case .found(let found):
                object = found
            case .missing:
                state.withLock { state in
                    state.pass.release(position, retry: false)
                    state.counters.missing += 1
                }
                warnMissing(keys[position])
                continue
            case .failed:
                state.withLock { $0.pass.release(position, retry: false) }
                continue
            }
            guard let block = fetcher.block(0, of: object, priority: .prefetch) else {
                // No memory to spare: the next read frees some and wakes the driver.
                state.withLock { state in
                    state.pass.release(position, retry: true)
                    state.driving = false
                }
                return
            }
            let bytes = UInt64(block.length)
            state.withLock { state in
                state.pass.prefetched(position, bytes: bytes)
                state.inFlight += 1
                state.counters.prefetchedFiles += 1
                state.counters.prefetchedBytes += bytes
            }
            Task { [self] in
                let landed = (try? await block.waitFor(block.length)) != nil
                state.withLock { state in
                    state.inFlight -= 1
                    if !landed { state.pass.release(position, retry: false) }
                }
                wake()
            }
        }
    }

    /// The next entry to fetch, or nil (and the driver stops) when none may start now.
    private func claim() -> Int? {
        state.withLock { state in
            let position = state.inFlight < maxInFlight
                ? state.pass.claim(allowance: memoryShare, estimate: UInt64(fetcher.blockSize)) : nil
            if position == nil { state.driving = false }
            return position
        }
    }

    private func warnMissing(_ key: String) {
        guard !warnedMissing.exchange(true, ordering: .relaxed) else { return }
        logger.warning(
            "a --prefetch-manifest entry names no object; it and any others like it are skipped (see the stats for the count)",
            metadata: ["key": "\(key)"])
    }
}
