@testable import S3FSCore
import S3FSTesting
import Testing

/// AccessPattern: sequential or random, from the offsets a handle is read at.
@Suite struct PipelineAccessPatternTests {
    static let tolerance: UInt64 = 128 << 10
    static let KiB: UInt64 = 1 << 10
    static let MiB: UInt64 = 1 << 20

    @Test func aFirstReadAtOffsetZeroIsSequential() {
        var pattern = AccessPattern(tolerance: Self.tolerance)
        #expect(pattern.mode == nil)
        #expect(pattern.observe(offset: 0, size: 4 * Self.KiB) == .sequential)
        #expect(pattern.mode == .sequential)
    }

    @Test(arguments: [tolerance + 1, 1 << 20, 1 << 40])
    func aFirstReadBeyondTheToleranceIsRandom(offset: UInt64) {
        var pattern = AccessPattern(tolerance: Self.tolerance)
        #expect(pattern.observe(offset: offset, size: 4 * Self.KiB) == .random)
    }

    @Test func aFileFirstReadAheadArrivingBeforeItsFirstReadIsSequential() {
        // The kernel sends the first read of a file and its read-ahead together; another FUSE thread may hand the
        // read-ahead to the daemon first.
        var pattern = AccessPattern(tolerance: Self.tolerance)
        #expect(pattern.observe(offset: 64 * Self.KiB, size: 64 * Self.KiB) == .sequential)
        #expect(pattern.observe(offset: 0, size: 64 * Self.KiB) == .sequential)
        #expect(pattern.observe(offset: 128 * Self.KiB, size: 64 * Self.KiB) == .sequential)
    }

    @Test func smallReorderingsAndSkipsWithinTheToleranceStaySequential() {
        var pattern = AccessPattern(tolerance: Self.tolerance)
        let KiB = Self.KiB
        // As asynchronous kernel read-ahead delivers them: out of order, overlapping, with small gaps.
        let reads: [(UInt64, UInt64)] = [
            (0, 128 * KiB), (256 * KiB, 128 * KiB), (128 * KiB, 128 * KiB), (384 * KiB, 128 * KiB),
            (448 * KiB, 64 * KiB), (600 * KiB, 4 * KiB), (520 * KiB, 8 * KiB), (700 * KiB, 128 * KiB),
        ]
        for (offset, size) in reads {
            #expect(pattern.observe(offset: offset, size: size) == .sequential, "read at \(offset)")
        }
    }

    @Test func oneJumpIsToleratedTwoSwitchToRandom() {
        var pattern = AccessPattern(tolerance: Self.tolerance)
        let MiB = Self.MiB
        #expect(pattern.observe(offset: 0, size: MiB) == .sequential)
        #expect(pattern.observe(offset: MiB, size: MiB) == .sequential)
        // One stray read (forward or back) does not change the mode...
        #expect(pattern.observe(offset: 100 * MiB, size: MiB) == .sequential)
        // ...and a read that follows again resets the count.
        #expect(pattern.observe(offset: 101 * MiB, size: MiB) == .sequential)
        #expect(pattern.observe(offset: 30 * MiB, size: MiB) == .sequential)
        #expect(pattern.observe(offset: 50 * MiB, size: MiB) == .random)
        #expect(pattern.observe(offset: 7 * MiB, size: MiB) == .random)
    }

    @Test func twoFollowOnReadsSwitchBackToSequential() {
        var pattern = AccessPattern(tolerance: Self.tolerance)
        let MiB = Self.MiB
        #expect(pattern.observe(offset: 0, size: MiB) == .sequential)
        #expect(pattern.observe(offset: 900 * MiB, size: MiB) == .sequential)
        #expect(pattern.observe(offset: 300 * MiB, size: MiB) == .random)
        // One read that follows the previous one is not enough...
        #expect(pattern.observe(offset: 301 * MiB, size: MiB) == .random)
        // ...two in a row are.
        #expect(pattern.observe(offset: 302 * MiB, size: MiB) == .sequential)
        #expect(pattern.observe(offset: 303 * MiB, size: MiB) == .sequential)
    }

    @Test func aRandomStartThenReadingFromTheBeginningBecomesSequential() {
        // A reader that looks at the end first (a ZIP directory, a Parquet footer, an MP4 index), then streams the
        // file from the start.
        var pattern = AccessPattern(tolerance: Self.tolerance)
        let MiB = Self.MiB
        #expect(pattern.observe(offset: 999 * MiB, size: 64 * Self.KiB) == .random)
        #expect(pattern.observe(offset: 0, size: MiB) == .random)
        #expect(pattern.observe(offset: MiB, size: MiB) == .random)
        #expect(pattern.observe(offset: 2 * MiB, size: MiB) == .sequential)
        #expect(pattern.observe(offset: 3 * MiB, size: MiB) == .sequential)
    }

    @Test func scatteredReadsStayRandom() {
        var pattern = AccessPattern(tolerance: Self.tolerance)
        let MiB = Self.MiB
        var generator = SplitMix(seed: 7)
        _ = pattern.observe(offset: 5 * MiB, size: 4096)
        for _ in 0..<200 {
            let offset = generator.next() % (1 << 40)
            #expect(pattern.observe(offset: offset, size: 4096) == .random)
        }
    }
}

/// PrefetchWindow: starts at its initial size, doubles when the reader was starved, never above its maximum, and
/// keeps a doubling only if the reader, held back by the link, read faster with it.
@Suite struct PipelineWindowTests {
    static let mib: UInt64 = 1 << 20

    /// Blocks `blocks` of 1 MiB read one after another at `rate(window)` bytes per second, the reader waiting the
    /// whole time of every block whose index is a multiple of `waitsEvery`; the window after each block.
    static func read(
        _ window: inout PrefetchWindow, blocks: Range<UInt64>, from start: ContinuousClock.Instant, waitsEvery: UInt64 = 1,
        rate: (UInt64) -> Double
    ) -> [UInt64] {
        var now = start
        var sizes: [UInt64] = []
        for block in blocks {
            let took = Duration.nanoseconds(Int64(Double(mib) / rate(window.bytes) * 1e9))
            if block % waitsEvery == 0 {
                window.starved(at: block * mib, now: now)
                window.waited(took)
            }
            now += took
            sizes.append(window.bytes)
        }
        return sizes
    }

    @Test func aReaderAtItsOwnPaceGrowsTheWindowUpToTheMaximum() {
        var window = PrefetchWindow(initial: 2 * Self.mib, maximum: 20 * Self.mib)
        #expect(window.bytes == 2 * Self.mib)
        #expect(window.maximum == 20 * Self.mib)
        // It waits for one block in 8 (a slow GET now and then): no sign of what a larger window would deliver.
        let sizes = Self.read(&window, blocks: 0..<64, from: .now, waitsEvery: 8) { _ in 100e6 }
        #expect(sizes.first == 4 * Self.mib)  // the first wait doubles at once
        #expect(Array(Set(sizes)).sorted() == [4, 8, 16, 20].map { $0 * Self.mib })
    }

    @Test func aDoublingThatDoesNotSpeedUpAReaderHeldBackByTheLinkIsTakenBack() {
        var window = PrefetchWindow(initial: 2 * Self.mib, maximum: 64 * Self.mib)
        // The server delivers 100 MB/s whatever the window: 4 MiB, then 8 MiB (not faster), back to 4 MiB.
        let sizes = Self.read(&window, blocks: 0..<200, from: .now) { _ in 100e6 }
        #expect(sizes[0] == 4 * Self.mib)
        #expect(sizes[4] == 8 * Self.mib)
        #expect(sizes[12] == 4 * Self.mib)
        // It tries 8 MiB again only after 16 windows (64 MiB more), and takes it back again.
        #expect(sizes[13..<76].allSatisfy { $0 == 4 * Self.mib })
        #expect(sizes[76] == 8 * Self.mib)
        #expect(sizes.max() == 8 * Self.mib)
    }

    @Test func aReaderHeldBackByTheWindowKeepsEveryDoubling() {
        var window = PrefetchWindow(initial: 2 * Self.mib, maximum: 64 * Self.mib)
        // A far server: the rate grows with the window (bytes in flight per round trip).
        let sizes = Self.read(&window, blocks: 0..<200, from: .now) { Double($0) * 20 }
        #expect(sizes.last == 64 * Self.mib)
        #expect(zip(sizes, sizes.dropFirst()).allSatisfy { $0 <= $1 })  // never taken back
    }

    @Test func anInitialSizeAboveTheMaximumIsCapped() {
        let window = PrefetchWindow(initial: 64 << 20, maximum: 16 << 20)
        #expect(window.bytes == 16 << 20)
    }

    @Test func theFileSystemStartsWithKernelReadAheadPlusOneBlock() async throws {
        let store = MockObjectStore()
        store.put("f", Pipeline.content(1000))
        let reads = Pipeline.reads(maxPrefetch: 1 << 30, kernelReadAhead: 128 << 10)
        let fs = Pipeline.fileSystem(store, reads: reads)
        let handle = try await fs.openFile("f")
        let window = fs.files.get(handle)?.readAhead.withLock { $0.window }
        #expect(window?.bytes == UInt64((128 << 10) + Pipeline.block))
        // --max-prefetch, but never more than a quarter of the memory limit.
        #expect(reads.memoryLimit / 4 < 1 << 30)
        #expect(window?.maximum == UInt64(reads.memoryLimit / 4))
    }
}
