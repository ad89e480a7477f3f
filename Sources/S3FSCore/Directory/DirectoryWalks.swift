// DirectoryWalks: a process opening file after file of one directory (a data loader walking a dataset directory)
// makes one lookup request per name. Once a directory has seen `threshold` lookups that S3 had to answer within
// `window`, it is listed once instead (a page holds 1,000 names), and the listing answers the following lookups —
// found or not found — for the metadata TTL. A directory listed completely before is listed again as soon as its
// misses within the window match that listing's page count (one miss for a directory of one page): when its TTL
// runs out under a job that is still walking it (epoch 2), a LIST of the whole directory costs no more than the
// requests it saves. Only one listing of a directory runs at a time; lookups that arrive
// meanwhile wait for it. A directory with more than `maxPages` pages is not listed this way again for a while:
// listing a million names to answer a few lookups would cost more than it saves.
//
// `threshold` is 3: a data loader's workers open names of a fresh directory a dozen at once, and every miss before
// the listing is a LIST of its own.
//
// Refresh ahead: a directory whose listing is still answering lookups busily in the last fifth of its TTL
// (`busyHits` of them per page of the listing: a job reading it, as a data loader's epochs do) is listed again
// in the background, so the new listing is in before the old one runs out and no lookup waits for a LIST
// (otherwise the lookups that meet the expiry wait a LIST's round trip, once per TTL per directory). The answers
// still never come from a listing older than the TTL; the cost is a LIST per four fifths of the TTL or a little
// more, and only for directories read that busily. A shuffled epoch over 16 directories of 375 files (1 s TTL,
// 16 readers, ~4 s) sent 223-231 LISTs with a threshold of 8 and the last third, 118-133 with these.

final class DirectoryWalks: Sendable {
    private struct Walk {
        var misses = 0
        var windowStart: ContinuousClock.Instant
        var listing: Task<Bool, Never>?
        var tooBigUntil: ContinuousClock.Instant?
        /// Pages of the last complete listing, which set how many misses a new one is worth.
        var listedPages: Int?
        /// Lookups answered in the last fifth of the listing's TTL.
        var hitsNearExpiry = 0
    }

    let threshold: Int
    /// Lookups answered near a listing's expiry, per page of it, that make it worth listing again ahead.
    let busyHits: Int
    let window: Duration
    let maxPages: Int
    private let walks = SleepingLock<[InodeNumber: Walk]>([:])

    init(threshold: Int = 3, busyHits: Int = 8, window: Duration = .seconds(1), maxPages: Int = 20) {
        self.threshold = threshold
        self.busyHits = busyHits
        self.window = window
        self.maxPages = maxPages
    }

    /// Records a lookup in `directory` that S3 would have to answer. Returns the listing to wait for when the
    /// directory is being walked (started with `list`, which returns whether the listing was complete).
    func noteMiss(in directory: InodeNumber, list: @escaping @Sendable () async -> Bool) -> Task<Bool, Never>? {
        let now = ContinuousClock.now
        return walks.withLock { walks in
            var walk = walks[directory] ?? Walk(windowStart: now)
            defer { walks[directory] = walk }
            if let listing = walk.listing { return listing }
            if let until = walk.tooBigUntil, until > now { return nil }
            if now - walk.windowStart > window { walk = Walk(windowStart: now, listedPages: walk.listedPages) }
            walk.misses += 1
            guard walk.misses >= min(threshold, walk.listedPages ?? threshold) else { return nil }
            let listing = Task { await list() }
            walk.listing = listing
            return listing
        }
    }

    /// Records a lookup in `directory` answered by a listing in the last fifth of its TTL; starts the next listing
    /// (with `list`, nobody waiting for it) once `busyHits` of them per page have come, unless one is running.
    func noteHitNearExpiry(in directory: InodeNumber, list: @escaping @Sendable () async -> Bool) {
        let now = ContinuousClock.now
        walks.withLock { walks in
            var walk = walks[directory] ?? Walk(windowStart: now)
            defer { walks[directory] = walk }
            guard walk.listing == nil, walk.tooBigUntil.map({ $0 <= now }) ?? true else { return }
            walk.hitsNearExpiry += 1
            guard walk.hitsNearExpiry >= busyHits * (walk.listedPages ?? 1) else { return }
            walk.listing = Task { await list() }
        }
    }

    /// The listing of `directory` ended: complete (its pages were recorded by `noteListed`), or too big to be
    /// worth it.
    func finished(_ directory: InodeNumber, complete: Bool) {
        let now = ContinuousClock.now
        walks.withLock { walks in
            walks[directory] = Walk(
                windowStart: now, tooBigUntil: complete ? nil : now.advanced(by: .seconds(60)),
                listedPages: walks[directory]?.listedPages)
        }
    }

    /// `directory` was listed completely (by readdir or a walk) with `entries` names: later walks of it re-list it
    /// as soon as that many pages' worth of misses have come.
    func noteListed(_ directory: InodeNumber, entries: Int) {
        let now = ContinuousClock.now
        walks.withLock { walks in
            walks[directory, default: Walk(windowStart: now)].listedPages = max(1, (entries + 999) / 1000)
        }
    }

    /// Forgets directories the kernel no longer holds.
    func forget(_ directory: InodeNumber) {
        _ = walks.withLock { $0.removeValue(forKey: directory) }
    }
}
