// EvictionPolicy: which block files of the cache tier go when it must shrink to a target. Pure: it sees what the
// eviction scan found (each file's size, recency and reuse mark) and names the victims; CacheSpace removes them.
//
// The tier uses the segmented policy: a block file written and never served again is probationary; one served from
// the tier at least once carries the reuse mark (the sticky bit, set by DiskBlockCache on a hit next to the mtime
// refresh, read from the scan's stat: no syscall on the miss path) and is protected. Victims come from the
// probationary files first, oldest first; the newest protected files are kept up to a share (80 %) of the target and
// the older protected ones count as probationary, so a formerly hot set that is no longer read still ages out. A
// scan that reads cold data once (a new data set, one pass over shards larger than the tier) only ever evicts its
// own probationary blocks and leaves the reused working set in place, where least-recently-used would flush it.
// Tests/S3FSCoreTests/EvictionTraceTests replays the loader's access patterns through both policies
// (bench/results/cache-policy-2026-11-30.md has the table).

/// One block file the eviction scan found.
struct TierFile: Sendable, Equatable {
    var path: String
    var size: Int64
    /// When it was last written or served (the file's mtime, in nanoseconds): larger is more recent.
    var recency: Int64
    /// Served from the tier at least once since it was written (the reuse mark).
    var reused: Bool
}

/// How the tier picks the files to remove.
enum EvictionPolicy: Sendable, Equatable {
    /// Oldest first, whatever their use.
    case leastRecentlyUsed
    /// Never-reused files first; reused ones are kept, newest first, up to `protectedShare` of the target.
    case segmented(protectedShare: Double)

    /// The policy the tier runs (the better one on the loader traces).
    static let tier = EvictionPolicy.segmented(protectedShare: 0.8)

    /// The files to remove, in the order to remove them, so that at most `target` bytes remain of `files` plus
    /// `pinnedBytes` (files that count but may not go, such as live writers' temporary files). Fewer when even
    /// removing every file leaves more than `target`.
    func victims(_ files: [TierFile], pinnedBytes: Int64 = 0, leaving target: Int64) -> [TierFile] {
        var total = files.reduce(pinnedBytes) { $0 + $1.size }
        guard total > target else { return [] }
        var victims: [TierFile] = []
        for file in evictionOrder(files, leaving: target) {
            guard total > target else { break }
            victims.append(file)
            total -= file.size
        }
        return victims
    }

    /// Every file, the first to go first.
    private func evictionOrder(_ files: [TierFile], leaving target: Int64) -> [TierFile] {
        switch self {
        case .leastRecentlyUsed:
            return files.sorted(by: Self.olderFirst)
        case .segmented(let protectedShare):
            let protectedBudget = Int64(Double(max(0, target)) * protectedShare)
            // The newest reused files that fit the budget stay protected; from the first that does not, the older
            // ones count as probationary.
            var kept: [TierFile] = []
            var keptBytes: Int64 = 0
            var probationary = files.filter { !$0.reused }
            var budgetFull = false
            for file in files.filter(\.reused).sorted(by: { Self.olderFirst($1, $0) }) {
                budgetFull = budgetFull || keptBytes + file.size > protectedBudget
                if budgetFull {
                    probationary.append(file)
                } else {
                    kept.append(file)
                    keptBytes += file.size
                }
            }
            return probationary.sorted(by: Self.olderFirst) + kept.sorted(by: Self.olderFirst)
        }
    }

    /// Recency, then path (files written or served in the same nanosecond go in a fixed order).
    private static func olderFirst(_ a: TierFile, _ b: TierFile) -> Bool {
        a.recency != b.recency ? a.recency < b.recency : a.path < b.path
    }
}
