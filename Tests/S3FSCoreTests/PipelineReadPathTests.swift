#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

/// The read path over a mock store with 64 KiB blocks: which GETs each access pattern sends, and what comes back.
@Suite struct PipelineReadPathTests {
    static let size = 1 << 20
    static let content = Pipeline.content(size, seed: 7)
    let store = MockObjectStore()
    let fs: FileSystem

    init() {
        store.put("f", Self.content)
        fs = Pipeline.fileSystem(store)
    }

    static func isBlockAligned(_ range: Range<UInt64>) -> Bool {
        let block = UInt64(Pipeline.block)
        return range.lowerBound % block == 0
            && (range.count == Pipeline.block || range.upperBound == UInt64(size))
    }

    /// The end of the furthest GET of "f" so far.
    func furthestGet() -> UInt64 { Pipeline.getRanges(store, "f").map(\.upperBound).max() ?? 0 }

    /// An object no larger than a block is one plain GET (no Range: radosgw serves that for less), pinned to the
    /// version opened; its bytes come back whole. (A larger object's blocks keep their ranges: the test below.)
    @Test(arguments: [1, 40 << 10, Pipeline.block])
    func anObjectOfOneBlockIsOneGETWithoutARange(size: Int) async throws {
        let content = Pipeline.content(size, seed: 3)
        store.put("small", content)
        let handle = try await fs.openFile("small")
        store.resetCalls()
        #expect(try await fs.read(handle: handle, offset: 0, size: size + 1).bytes == content)
        #expect(store.calls == [.get(key: "small", range: nil, ifMatch: store.object("small")?.etag)])
    }

    @Test(arguments: [4 << 10, 16 << 10, 100_000, 128 << 10])
    func sequentialReadsReturnTheExactBytesFromBlockAlignedGETs(chunk: Int) async throws {
        let handle = try await fs.openFile("f")
        var bytes: [UInt8] = []
        while true {
            let piece = try await fs.read(handle: handle, offset: UInt64(bytes.count), size: chunk).bytes
            if piece.isEmpty { break }
            #expect(piece.count == min(chunk, Self.size - bytes.count))
            bytes += piece
        }
        #expect(bytes == Self.content)
        // Every GET is one whole block, each block fetched once.
        let ranges = Pipeline.getRanges(store, "f")
        #expect(ranges.allSatisfy(Self.isBlockAligned), "\(ranges)")
        #expect(ranges.count == Self.size / Pipeline.block)
        #expect(Set(ranges.map(\.lowerBound)).count == ranges.count)
        #expect(store.calls.allSatisfy { call in
            if case .get(_, _, let ifMatch) = call { return ifMatch == store.object("f")?.etag }
            return true
        })
        fs.release(handle: handle)
    }

    @Test func readAheadRunsAheadOfTheReader() async throws {
        let handle = try await fs.openFile("f")
        // The first window: kernel read-ahead (128 KiB) plus one block.
        let window = UInt64((128 << 10) + Pipeline.block)
        var offset: UInt64 = 0
        while offset < UInt64(Self.size) {
            let piece = try await fs.read(handle: handle, offset: offset, size: 16 << 10).bytes
            #expect(piece.elementsEqual(Self.content[Int(offset)..<Int(offset) + piece.count]))
            offset += UInt64(piece.count)
            let target = min(UInt64(Self.size), offset + window)
            #expect(await eventually { furthestGet() >= target }, "at \(offset): furthest GET \(furthestGet())")
        }
        // Read-ahead got there first: blocks the reader needed were already fetched (or on their way) by the
        // time it asked, and none twice.
        let ranges = Pipeline.getRanges(store, "f")
        #expect(ranges.count == Self.size / Pipeline.block)
        #expect(ranges.allSatisfy(Self.isBlockAligned))
        fs.release(handle: handle)
    }

    static let randomReads: [(offset: UInt64, size: Int)] = [
        (300_000, 1000), (10_000, 5000), (900_000, 70_000), (523_456, 1), (1_048_000, 4096),
    ]

    @Test func randomReadsFetchExactlyTheRequestedRangesAndNoReadAhead() async throws {
        let handle = try await fs.openFile("f")
        store.resetCalls()
        for (offset, size) in Self.randomReads {
            let bytes = try await fs.read(handle: handle, offset: offset, size: size).bytes
            let end = min(Self.size, Int(offset) + size)
            #expect(bytes == Array(Self.content[Int(offset)..<end]))
        }
        let expected = Self.randomReads.map { $0.offset..<min(UInt64(Self.size), $0.offset + UInt64($0.size)) }
        #expect(Pipeline.getRanges(store, "f") == expected)
        #expect(fs.fetcher.cache.count == 0)
        #expect(fs.fetcher.scheduler.runningCount == 0)
        fs.release(handle: handle)
    }

    @Test func switchingFromRandomToSequentialStartsReadAheadAgain() async throws {
        let handle = try await fs.openFile("f")
        for (offset, size) in Self.randomReads.dropLast() {
            _ = try await fs.read(handle: handle, offset: offset, size: size)
        }
        store.resetCalls()
        // Now front to back from 100 KiB, below where the random reads went.
        var offset: UInt64 = 100 << 10
        for _ in 0..<6 {
            let piece = try await fs.read(handle: handle, offset: offset, size: 16 << 10).bytes
            #expect(piece == Array(Self.content[Int(offset)..<Int(offset) + (16 << 10)]))
            offset += 16 << 10
        }
        // The first read of the run is still random (one exact GET); within two more the handle is sequential
        // and reads whole blocks, with read-ahead beyond the reader.
        #expect(await eventually { furthestGet() >= offset + UInt64(Pipeline.block) }, "\(Pipeline.getRanges(store, "f"))")
        let ranges = Pipeline.getRanges(store, "f")
        #expect(ranges.first == (100 << 10)..<(116 << 10))
        #expect(ranges.dropFirst(2).allSatisfy(Self.isBlockAligned), "\(ranges)")
        #expect(ranges.filter(Self.isBlockAligned).count >= 3)
        fs.release(handle: handle)
    }

    @Test func keepCacheOnlyWhileTheObjectIsUnchanged() async throws {
        let fs = Pipeline.fileSystem(store, ttl: 0)
        #expect(try await fs.openReply("f").keepCache == false)
        #expect(try await fs.openReply("f").keepCache == true)
        #expect(try await fs.openReply("f").keepCache == true)
        store.replace("f", with: Array(Self.content.reversed()))
        let reopened = try await fs.openReply("f")
        #expect(reopened.keepCache == false)
        #expect(try await fs.read(handle: reopened.handle, offset: 0, size: 4).bytes == Array(Self.content.suffix(4).reversed()))
        #expect(try await fs.openReply("f").keepCache == true)
    }
}

/// Handles released while their read-ahead is on its way, over a GatedStore.
@Suite struct PipelineReleaseTests {
    static let size = 1 << 20
    static let content = Pipeline.content(size, seed: 9)
    let mock = MockObjectStore()
    let etag: ETag

    init() {
        etag = mock.put("f", Self.content).etag
    }

    func listed(_ fs: FileSystem, _ index: UInt64) -> Bool {
        fs.fetcher.cache.cached(BlockKey(key: "f", etag: etag, index: index)) != nil
    }

    func range(_ index: Int) -> ByteRange { Pipeline.blockRange(index, size: Self.size) }

    @Test func releaseCancelsReadAheadNobodyWaitsFor() async throws {
        let gate = GatedStore(wrapping: mock)
        gate.passThrough { $0.range?.lowerBound == 0 }
        // Two GETs at once, so one prefetch runs (held at the gate) and the others queue in the scheduler.
        let fs = Pipeline.fileSystem(gate, reads: Pipeline.reads(maxConcurrent: 2))
        let handle = try await fs.openFile("f")
        #expect(try await fs.read(handle: handle, offset: 0, size: 4096).bytes == Array(Self.content[0..<4096]))
        // Blocks 1...3 are read ahead: whichever task got the one prefetch slot is held at the gate.
        #expect(await eventually { gate.held.count == 1 })
        let running = try #require(gate.held.first)
        #expect((1...3).map { range($0) }.contains(running.range))
        #expect((1...3).allSatisfy { listed(fs, $0) })
        fs.release(handle: handle)
        // The running GET is called off, the queued ones never start.
        #expect(await eventually { gate.cancelled == [running] })
        #expect(await eventually { !(1...3).contains { listed(fs, $0) } })
        #expect(await eventually { fs.fetcher.scheduler.runningCount == 0 })
        #expect(gate.arrivals.map(\.range) == [range(0), running.range])
        #expect(gate.completed.map(\.range) == [range(0)])
        // Nothing is left holding memory: emptying the cache gives all of it back.
        fs.evictEverything()
        #expect(fs.budget.usedBytes == 0)
    }

    @Test func releaseLeavesReadAheadAnotherHandleWaitsFor() async throws {
        let gate = GatedStore(wrapping: mock)
        gate.passThrough { $0.range?.lowerBound == 0 }
        // A window of one block: the read at 0 reads ahead block 1 only.
        let fs = Pipeline.fileSystem(gate, reads: Pipeline.reads(maxConcurrent: 2, kernelReadAhead: 0))
        let a = try await fs.openFile("f")
        _ = try await fs.read(handle: a, offset: 0, size: 4096)
        #expect(await eventually { gate.held.map(\.range) == [range(1)] })
        // Another handle, reading at random inside block 1, waits for A's read-ahead.
        let b = try await fs.openFile("f")
        let executor = IdleTrackingExecutor()
        let read = Task(executorPreference: executor) { [fs] in
            try await fs.read(handle: b, offset: 70_000, size: 1000).bytes
        }
        #expect(await eventually { executor.isIdle })
        fs.release(handle: a)
        gate.open()
        #expect(try await read.value == Array(Self.content[70_000..<71_000]))
        #expect(gate.cancelled.isEmpty)
        #expect(gate.arrivals.filter { $0.range == range(1) }.count == 1)
        #expect(!gate.arrivals.contains { $0.range == ByteRange(70_000..<71_000) })
        fs.release(handle: b)
    }

    @Test func releaseLeavesReadAheadAnotherHandleAlsoAskedFor() async throws {
        let gate = GatedStore(wrapping: mock)
        gate.passThrough { $0.range?.lowerBound == 0 }
        let fs = Pipeline.fileSystem(gate, reads: Pipeline.reads(maxConcurrent: 2, kernelReadAhead: 0))
        // Two readers of one file, both at its start: both read ahead block 1 (one GET, shared).
        let a = try await fs.openFile("f")
        let b = try await fs.openFile("f")
        _ = try await fs.read(handle: a, offset: 0, size: 4096)
        _ = try await fs.read(handle: b, offset: 0, size: 4096)
        #expect(await eventually { gate.held.map(\.range) == [range(1)] })
        // A is done with the file; B is not, and will need block 1.
        fs.release(handle: a)
        #expect(listed(fs, 1))
        gate.open()
        #expect(try await fs.read(handle: b, offset: UInt64(Pipeline.block), size: 4096).bytes
            == Array(Self.content[Pipeline.block..<Pipeline.block + 4096]))
        #expect(gate.cancelled.isEmpty)
        #expect(gate.arrivals.filter { $0.range == range(1) }.count == 1)
        fs.release(handle: b)
    }

    /// A real transfer's abort takes effect later, on its I/O thread: until then, the cancelled block is still
    /// listed and a reader can join it. That reader must still get its bytes.
    @Test(arguments: [false, true])
    func aReaderThatJoinsCancelledReadAheadStillGetsItsBytes(sequential: Bool) async throws {
        let gate = GatedStore(wrapping: mock, cancellationAtRelease: true)
        gate.passThrough { $0.range?.lowerBound == 0 }
        // A window of one block: the read at 0 reads ahead block 1 only.
        let fs = Pipeline.fileSystem(gate, reads: Pipeline.reads(maxConcurrent: 2, kernelReadAhead: 0))
        let a = try await fs.openFile("f")
        _ = try await fs.read(handle: a, offset: 0, size: 4096)
        #expect(await eventually { gate.held.map(\.range) == [range(1)] })
        let heldGet = try #require(gate.held.first)
        fs.release(handle: a)  // cancels block 1's GET; the store has not noticed yet
        let b = try await fs.openFile("f")
        if sequential { _ = try await fs.read(handle: b, offset: 0, size: 4096) }
        let offset: UInt64 = sequential ? UInt64(Pipeline.block) : 70_000
        let executor = IdleTrackingExecutor()
        let read = Task(executorPreference: executor) { [fs] in
            await thrownErrnoOrBytes { () async throws(FSError) -> [UInt8] in
                try await fs.read(handle: b, offset: offset, size: 1000).bytes
            }
        }
        #expect(await eventually { executor.isIdle })
        #expect(gate.arrivals.filter { $0.range == range(1) }.count == 1, "B joined the listed block")
        gate.passThrough { _ in true }
        gate.release(heldGet)
        let result = await read.value
        #expect(result == .bytes(Array(Self.content[Int(offset)..<Int(offset) + 1000])))
        #expect(gate.cancelled.map(\.id) == [heldGet.id])
        gate.open()
        fs.release(handle: b)
    }
}

enum ReadOutcome: Equatable {
    case bytes([UInt8])
    case errno(Int32)
}

func thrownErrnoOrBytes(_ body: () async throws(FSError) -> [UInt8]) async -> ReadOutcome {
    do throws(FSError) {
        return .bytes(try await body())
    } catch {
        return .errno(error.errno)
    }
}

/// The read-ahead window grows when the reader waits for read-ahead, not when it waits for the block it asked for.
@Suite struct PipelineWindowGrowthTests {
    @Test func waitsOnTheDemandedBlockLeaveTheWindowWaitsOnReadAheadDoubleIt() async throws {
        let mock = MockObjectStore()
        let content = Pipeline.content(1 << 20, seed: 3)
        mock.put("f", content)
        let gate = GatedStore(wrapping: mock)
        let fs = Pipeline.fileSystem(gate, reads: Pipeline.reads(maxPrefetch: 4 << 20))
        let handle = try await fs.openFile("f")
        let initial = UInt64((128 << 10) + Pipeline.block)
        func window() -> UInt64? { fs.files.get(handle)?.readAhead.withLock { $0.window.bytes } }
        #expect(window() == initial)
        // Three reads inside block 0 wait for it, as the kernel's asynchronous reads of a new file do.
        let executor = IdleTrackingExecutor()
        let first = (0..<3).map { index in
            Task(executorPreference: executor) { [fs] in
                try await fs.read(handle: handle, offset: UInt64(index * 4096), size: 4096).bytes
            }
        }
        #expect(await eventually { executor.isIdle && gate.held.contains { $0.range?.lowerBound == 0 } })
        #expect(window() == initial)
        gate.release(where: { $0.range?.lowerBound == 0 })
        for (index, task) in first.enumerated() {
            #expect(try await task.value == Array(content[index * 4096..<(index + 1) * 4096]))
        }
        #expect(window() == initial)
        // Block 1 is read-ahead still on its way: the reader caught up with it, so the window was too short.
        #expect(await eventually { gate.held.contains { $0.range == Pipeline.blockRange(1, size: 1 << 20) } })
        let next = Task(executorPreference: executor) { [fs] in
            try await fs.read(handle: handle, offset: UInt64(Pipeline.block), size: 4096).bytes
        }
        #expect(await eventually { executor.isIdle })
        #expect(window() == 2 * initial)
        gate.open()
        #expect(try await next.value == Array(content[Pipeline.block..<Pipeline.block + 4096]))
        fs.release(handle: handle)
    }
}
