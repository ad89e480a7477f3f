@testable import S3FSCore
import S3FSTesting
import Testing

/// The tier's eviction policy against plain least-recently-used on block-access traces shaped like
/// bench/loader_bench.py's workloads, through the real EvictionPolicy: each trace is replayed on a simulated tier
/// that runs as CacheSpace and DiskBlockCache do (a miss stores the block; a store that does not fit first evicts
/// down to 90 % of the capacity less the block; a hit refreshes the block's recency and sets its reuse mark), and the
/// hit ratio after the first pass is compared. Seeded: the same figures on every run. The table it prints is
/// bench/results/cache-policy-2026-11-30.md.
@Suite struct EvictionTraceTests {
    static let kib: Int64 = 1 << 10
    static let mib: Int64 = 1 << 20
    /// A block file's header (magic, lengths, checksum, the block's name) on top of its payload.
    static let header: Int64 = 128
    static let block = 8 * mib
    static let seed: UInt64 = 20_261_130

    static let traces = [
        shuffledEpochs(datasetShare: 1.25), shuffledEpochs(datasetShare: 2), listingEpochs(datasetShare: 1.25),
        listingEpochs(datasetShare: 2), shardReaders(), hotSetAndScan(), randomRecords(),
    ]

    @Test func theTierPolicyKeepsTheHotSetThroughAScanWhereLeastRecentlyUsedLosesIt() throws {
        let trace = Self.hotSetAndScan()
        let afterScan = try #require(trace.phases.first?.accesses)
        let lru = TierSimulator.replay(trace, .leastRecentlyUsed)
        let tier = TierSimulator.replay(trace, .tier)
        #expect(tier.ratio(afterScan) >= 0.99, "the tier policy lost the hot set to the scan")
        #expect(lru.ratio(afterScan) <= 0.05, "least-recently-used kept the hot set: the trace is no scan")
    }

    @Test func theTierPolicyIsNeverMuchWorseThanLeastRecentlyUsed() {
        var table = [
            "| trace | tier | accesses measured | LRU hit ratio | segmented (tier) hit ratio | difference |",
            "|---|---|---|---|---|---|",
        ]
        for trace in Self.traces {
            let lru = TierSimulator.replay(trace, .leastRecentlyUsed)
            let tier = TierSimulator.replay(trace, .tier)
            for (name, range) in [(trace.name, trace.measured)] + trace.phases {
                let (lruRatio, tierRatio) = (lru.ratio(range), tier.ratio(range))
                table.append(
                    "| \(name) | \(trace.capacity / Self.mib) MiB | \(range.count) | \(Self.percent(lruRatio)) % | "
                        + "\(Self.percent(tierRatio)) % | \(Self.percent(tierRatio - lruRatio, signed: true)) points |")
            }
            #expect(
                tier.ratio(trace.measured) >= lru.ratio(trace.measured) - 0.02,
                "\(trace.name): tier \(tier.ratio(trace.measured)) vs LRU \(lru.ratio(trace.measured))")
        }
        print(table.joined(separator: "\n"))
    }

    // MARK: the traces

    /// Small files of 80-120 KiB (the loader's), `bytes` of them, numbered from `first`.
    static func smallFiles(bytes: Int64, first: Int = 0, seed: UInt64) -> [TraceBlock] {
        var random = SplitMix(seed: seed)
        var files: [TraceBlock] = []
        var total: Int64 = 0
        while total < bytes {
            let size = Int64.random(in: 80 * kib...120 * kib, using: &random) + header
            files.append(TraceBlock(id: first + files.count, size: size))
            total += size
        }
        return files
    }

    static func shuffledEpochs(datasetShare: Double, epochs: Int = 4) -> Trace {
        let capacity = 64 * mib
        let files = smallFiles(bytes: Int64(Double(capacity) * datasetShare), seed: seed)
        var random = SplitMix(seed: seed + 1)
        let accesses = (0..<epochs).flatMap { _ in files.shuffled(using: &random) }
        return Trace(
            name: "(a) small files shuffled, data set \(datasetShare)× the tier, \(epochs) epochs", capacity: capacity,
            accesses: accesses, firstPass: files.count)
    }

    static func listingEpochs(datasetShare: Double, epochs: Int = 4) -> Trace {
        let capacity = 64 * mib
        let files = smallFiles(bytes: Int64(Double(capacity) * datasetShare), seed: seed)
        return Trace(
            name: "(b) small files in listing order, data set \(datasetShare)× the tier, \(epochs) epochs",
            capacity: capacity, accesses: Array((0..<epochs).map { _ in files }.joined()), firstPass: files.count)
    }

    /// 8 readers, each reading its shards (k, k+8, ...) sequentially block after block, side by side.
    static func shardReaders(readers: Int = 8, shards: Int = 16, epochs: Int = 3) -> Trace {
        let capacity = 512 * mib
        let blocksPerShard = Int(64 * mib / block)
        let streams = (0..<readers).map { reader in
            stride(from: reader, to: shards, by: readers).flatMap { shard in
                (0..<blocksPerShard).map { TraceBlock(id: shard * blocksPerShard + $0, size: block + header) }
            }
        }
        let epoch = (0..<streams[0].count).flatMap { step in streams.map { $0[step] } }
        return Trace(
            name: "(c) 8 shard readers, sequential, shards of 64 MiB, 2× the tier, \(epochs) epochs",
            capacity: capacity, accesses: Array((0..<epochs).map { _ in epoch }.joined()), firstPass: epoch.count)
    }

    /// A hot working set (40 % of the tier) read shuffled every epoch; after the third, one pass in listing order
    /// over cold files as large as the tier.
    static func hotSetAndScan(epochs: Int = 6, scanAfter: Int = 3) -> Trace {
        let capacity = 64 * mib
        let hot = smallFiles(bytes: capacity * 4 / 10, seed: seed)
        let cold = smallFiles(bytes: capacity, first: hot.count, seed: seed + 2)
        var random = SplitMix(seed: seed + 3)
        var accesses: [TraceBlock] = []
        var afterScan = 0..<0
        for epoch in 0..<epochs {
            if epoch == scanAfter { accesses += cold }
            let start = accesses.count
            accesses += hot.shuffled(using: &random)
            if epoch == scanAfter { afterScan = start..<accesses.count }
        }
        return Trace(
            name: "(d) hot set 40 % of the tier every epoch, one scan of cold files 1× the tier after epoch 3",
            capacity: capacity, accesses: accesses, firstPass: hot.count,
            phases: [("(d) of which the hot epoch right after the scan", afterScan)])
    }

    /// 64 KiB records of one file twice the tier, each epoch a random permutation; a record is a look-up of its
    /// block (no memory tier in front).
    static func randomRecords(epochs: Int = 3) -> Trace {
        let capacity = 512 * mib
        let fileSize = 2 * capacity
        let record = 64 * kib
        var random = SplitMix(seed: seed + 4)
        let accesses = (0..<epochs).flatMap { _ in
            (0..<Int(fileSize / record)).shuffled(using: &random).map {
                TraceBlock(id: Int(Int64($0) * record / block), size: block + header)
            }
        }
        return Trace(
            name: "(e) random 64 KiB records of one file 2× the tier (8 MiB blocks), \(epochs) epochs",
            capacity: capacity, accesses: accesses, firstPass: Int(fileSize / record))
    }

    /// A ratio in percent (or percentage points), one decimal.
    static func percent(_ ratio: Double, signed: Bool = false) -> String {
        let tenths = Int((ratio * 1000).rounded())
        let sign = signed && tenths > 0 ? "+" : tenths < 0 ? "-" : ""
        return "\(sign)\(abs(tenths) / 10).\(abs(tenths) % 10)"
    }
}

/// One block file of a trace.
struct TraceBlock {
    var id: Int
    var size: Int64
}

/// Block accesses on a tier of `capacity` bytes; the hit ratio is measured after the first pass.
struct Trace {
    var name: String
    var capacity: Int64
    var accesses: [TraceBlock]
    var firstPass: Int
    /// Parts of the measured accesses reported on their own.
    var phases: [(name: String, accesses: Range<Int>)] = []

    var measured: Range<Int> { firstPass..<accesses.count }
}

/// The cache tier as CacheSpace and DiskBlockCache run it, with a logical clock for the mtime.
struct TierSimulator {
    let capacity: Int64
    let policy: EvictionPolicy
    private var files: [String: TierFile] = [:]
    private var used: Int64 = 0
    private var clock: Int64 = 0
    private(set) var hits: [Bool] = []

    static func replay(_ trace: Trace, _ policy: EvictionPolicy) -> TierSimulator {
        var tier = TierSimulator(capacity: trace.capacity, policy: policy)
        for block in trace.accesses { tier.access(block) }
        return tier
    }

    init(capacity: Int64, policy: EvictionPolicy) {
        self.capacity = capacity
        self.policy = policy
    }

    func ratio(_ range: Range<Int>) -> Double {
        Double(hits[range].count { $0 }) / Double(max(1, range.count))
    }

    /// A look-up: a hit refreshes recency and sets the reuse mark; a miss stores the block.
    mutating func access(_ block: TraceBlock) {
        clock += 1
        let path = String(block.id)
        if files[path] != nil {
            files[path]!.recency = clock
            files[path]!.reused = true
            hits.append(true)
            return
        }
        hits.append(false)
        store(TierFile(path: path, size: block.size, recency: clock, reused: false))
    }

    /// CacheSpace.reserve, then the file.
    private mutating func store(_ file: TierFile) {
        guard file.size <= capacity else { return }
        if used + file.size > capacity {
            for victim in policy.victims(Array(files.values), leaving: max(0, capacity * 9 / 10 - file.size)) {
                files[victim.path] = nil
            }
            used = files.values.reduce(0) { $0 + $1.size }
        }
        guard used + file.size <= capacity else { return }
        files[file.path] = file
        used += file.size
    }
}
