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

/// PrefetchWindow: starts at its initial size, doubles when the reader was starved, never above its maximum.
@Suite struct PipelineWindowTests {
    @Test func startsAtTheInitialSizeAndDoublesUpToTheMaximum() {
        var window = PrefetchWindow(initial: 3 << 20, maximum: 20 << 20)
        #expect(window.bytes == 3 << 20)
        #expect(window.maximum == 20 << 20)
        window.starved()
        #expect(window.bytes == 6 << 20)
        window.starved()
        #expect(window.bytes == 12 << 20)
        window.starved()
        #expect(window.bytes == 20 << 20)
        window.starved()
        #expect(window.bytes == 20 << 20)
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
