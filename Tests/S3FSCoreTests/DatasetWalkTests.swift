import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

/// The dataset read-ahead policy, driven as DatasetReadAhead drives it (every prefetch lands at once): how far it
/// gets ahead of listing-order and shuffled epochs, and how little it wastes on orders it cannot predict.
@Suite struct DatasetWalkTests {
    static let fileSize: UInt64 = 100_000
    static let cap: UInt64 = 512 << 20

    static func files(_ count: Int) -> [DatasetWalk.File] {
        (0..<count).map { index in
            let name = String(format: "f%05d", index)
            return DatasetWalk.File(
                name: Array(name.utf8), object: ObjectVersion(key: "d/" + name, etag: ETag("\"\(index)\""), size: fileSize),
                prefetchBytes: fileSize)
        }
    }

    /// What a job reading `order` (positions) gets: files found prefetched, bytes prefetched, bytes wasted.
    struct Outcome {
        var hits = 0
        var prefetched: UInt64 = 0
        var wasted: UInt64 = 0
        var jobFetched: UInt64 = 0
        var wasteShare: Double { Double(wasted) / Double(prefetched + jobFetched) }
    }

    static func run(_ order: [Int], of count: Int, rate: Double = 100e6, latency: Double = 0.01) -> Outcome {
        var walk = DatasetWalk(files: files(count))
        var outcome = Outcome()
        for position in order {
            switch walk.noteRead(walk.files[position].name) {
            case .hit: outcome.hits += 1
            case .missed: outcome.jobFetched += fileSize
            case .ignored: break
            }
            let allowance = walk.allowance(consumedPerSecond: rate, fetchLatency: latency, cap: cap)
            for file in walk.nextToPrefetch(allowance: allowance, limit: 16) { outcome.prefetched += file.prefetchBytes }
        }
        outcome.wasted = walk.unusedBytes
        return outcome
    }

    @Test func aListingOrderWalkIsReadFromPrefetchedFilesAfterTheFirstFew() {
        let outcome = Self.run(Array(0..<2000), of: 2000)
        #expect(outcome.hits >= 1990)
        // What is left over at the end is the lead, nothing more.
        #expect(outcome.wasted == 0)
    }

    @Test func workersSplittingTheListingInBatchesStillCountAsListingOrder() {
        // 8 workers, batches of 32: batch b is read by worker b % 8; the workers' reads interleave.
        var order: [Int] = []
        for round in stride(from: 0, to: 2048, by: 256) {
            for offset in 0..<32 {
                for worker in 0..<8 { order.append(round + worker * 32 + offset) }
            }
        }
        let outcome = Self.run(order, of: 2048)
        // Misses: part of the first round (before the reads look dense) and the first file of each new round's
        // far batches (the lead is 40 files here; a round spans 256).
        #expect(outcome.hits >= 1850, "hits \(outcome.hits) of 2048")
    }

    @Test func aShuffledEpochIsMostlyReadFromPrefetchedFiles() {
        var generator = SplitMix(seed: 7)
        let order = Array(0..<4000).shuffled(using: &generator)
        let outcome = Self.run(order, of: 4000)
        #expect(outcome.hits >= 2800, "hits \(outcome.hits) of 4000")
        #expect(outcome.wasted == 0)
    }

    @Test func aJobReadingFivePercentAtRandomWastesAtMostATenth() {
        for seed: UInt64 in 1...5 {
            var generator = SplitMix(seed: seed)
            let order = Array(Array(0..<10_000).shuffled(using: &generator).prefix(500))
            let outcome = Self.run(order, of: 10_000)
            #expect(outcome.wasteShare <= 0.1, "seed \(seed): \(outcome.wasted) wasted of \(outcome.prefetched + outcome.jobFetched)")
        }
    }

    @Test func adversarialOrdersSetOffNoPrefetchStorm() {
        // Every twentieth file, front to back: neither dense nor covering much of the directory.
        let strided = Self.run(Array(stride(from: 0, to: 10_000, by: 20)), of: 10_000)
        #expect(strided.wasteShare <= 0.1)
        // Every tenth: prefetch may start to pay, but never fetches more than the job read itself.
        let tenth = Self.run(Array(stride(from: 0, to: 10_000, by: 10)), of: 10_000)
        #expect(tenth.prefetched <= tenth.jobFetched)
        // The listing back to front, a twentieth of it.
        let reversed = Self.run(Array((9_500..<10_000).reversed()), of: 10_000)
        #expect(reversed.wasteShare <= 0.1)
        // One file read again and again (many handles of one file): nothing else is fetched.
        let same = Self.run(Array(repeating: 42, count: 1000), of: 10_000)
        #expect(same.prefetched == 0)
        // Two files alternating.
        let pair = Self.run((0..<1000).map { $0 % 2 == 0 ? 10 : 9_000 }, of: 10_000)
        #expect(pair.prefetched == 0)
    }

    @Test func aSecondEpochStartsOverOnceHalfTheDirectoryWasRead() {
        var walk = DatasetWalk(files: Self.files(10))
        for position in 0..<5 { _ = walk.noteRead(walk.files[position].name) }
        // A repeat once half was read: a new epoch, counted from this read.
        #expect(walk.noteRead(walk.files[0].name) == .missed)
        #expect(walk.read == [0])
        // A repeat before half: another handle of the same file, ignored.
        var early = DatasetWalk(files: Self.files(10))
        _ = early.noteRead(early.files[3].name)
        #expect(early.noteRead(early.files[3].name) == .ignored)
    }

    @Test func theLeadFollowsConsumptionTimesLatencyWithinTheCap() {
        var walk = DatasetWalk(files: Self.files(100_000))
        for position in 0..<10 { _ = walk.noteRead(walk.files[position].name) }
        #expect(walk.isDense)
        // 1 GB/s for 0.1 s, four times over: 400 MB, held to the cap.
        #expect(walk.allowance(consumedPerSecond: 1e9, fetchLatency: 0.1, cap: 64 << 20) == 64 << 20)
        // A slow job: the minimum lead of 8 files.
        #expect(walk.allowance(consumedPerSecond: 1000, fetchLatency: 0.01, cap: 64 << 20) == 8 * Self.fileSize)
    }

    @Test func aPrefetchWithoutMemoryIsTriedAgainAndAFailedOneIsNot() {
        var walk = DatasetWalk(files: Self.files(100))
        for position in 0..<4 { _ = walk.noteRead(walk.files[position].name) }
        let first = walk.nextToPrefetch(allowance: 2 * Self.fileSize, limit: 16)
        #expect(first.map(\.object.key) == ["d/f00004", "d/f00005"])
        walk.unprefetch(first[0].name)
        walk.abandon(first[1].name)
        #expect(walk.unusedBytes == 0)
        let second = walk.nextToPrefetch(allowance: 2 * Self.fileSize, limit: 16)
        #expect(second.map(\.object.key) == ["d/f00004", "d/f00006"])
    }
}
