#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

/// Single-flight: however many readers want a block, through however many handles, one GET fetches it; its
/// failure reaches every one of them, and the next read tries again. GETs are held at a GatedStore and the readers
/// run on an IdleTrackingExecutor, so the test knows when every reader is parked on the block.
@Suite struct PipelineSingleFlightTests {
    static let size = 4 * Pipeline.block
    static let content = Pipeline.content(size, seed: 42)
    let mock = MockObjectStore()
    let gate: GatedStore
    let fs: FileSystem
    let executor = IdleTrackingExecutor()

    init() {
        mock.put("f", Self.content)
        gate = GatedStore(wrapping: mock)
        fs = Pipeline.fileSystem(gate)
    }

    var block0: ByteRange { Pipeline.blockRange(0, size: Self.size) }

    /// 32 readers of bytes 0..<4096 over 4 handles, and one random-mode reader (first read inside block 0) on a
    /// fifth handle; returns once every one of them is parked on block 0's GET.
    func parkReaders() async throws -> [Task<Result<[UInt8], FSError>, Never>] {
        var handles: [UInt64] = []
        for _ in 0..<4 { handles.append(try await fs.openFile("f")) }
        let entered = Counter()
        var tasks: [Task<Result<[UInt8], FSError>, Never>] = []
        for index in 0..<32 {
            let handle = handles[index % 4]
            tasks.append(
                Task(executorPreference: executor) { [fs] in
                    entered.increment()
                    do throws(FSError) {
                        return .success(try await fs.read(handle: handle, offset: 0, size: 4096).bytes)
                    } catch {
                        return .failure(error)
                    }
                })
        }
        // The GET runs in a task of its own: it reaches the gate in its own time.
        #expect(await eventually { entered.count == 32 && executor.isIdle && gate.held.contains { $0.range == block0 } })
        #expect(gate.arrivals(of: "f", range: block0) == 1)
        // A handle read at random joins the block being fetched rather than sending a GET of its own.
        let random = try await fs.openFile("f")
        tasks.append(
            Task(executorPreference: executor) { [fs] in
                entered.increment()
                do throws(FSError) {
                    return .success(try await fs.read(handle: random, offset: 10_000, size: 4096).bytes)
                } catch {
                    return .failure(error)
                }
            })
        #expect(await eventually { entered.count == 33 && executor.isIdle })
        #expect(gate.arrivals(of: "f", range: block0) == 1)
        #expect(!gate.arrivals.contains { $0.range == ByteRange(10_000..<14_096) })
        return tasks
    }

    @Test func concurrentReadersOfOneBlockCauseOneGET() async throws {
        let tasks = try await parkReaders()
        let get = try #require(gate.held.first { $0.range == block0 })
        gate.release(get)
        for (index, task) in tasks.enumerated() {
            let expected = index < 32 ? Array(Self.content[0..<4096]) : Array(Self.content[10_000..<14_096])
            #expect(try await task.value.get() == expected)
        }
        // Read-ahead of the other blocks was shared too: every block once, across five handles.
        gate.open()
        #expect(await eventually { gate.completed.count == 4 })
        for index in 0..<4 {
            #expect(gate.arrivals(of: "f", range: Pipeline.blockRange(index, size: Self.size)) == 1)
        }
        #expect(gate.arrivals.count == 4)
        #expect(mock.callCount(.get) == 4)
    }

    @Test func aFailedFetchWakesEveryWaiterWithTheSameErrorAndTheNextReadRetries() async throws {
        let tasks = try await parkReaders()
        let get = try #require(gate.held.first { $0.range == block0 })
        gate.fail(get, with: .stub(ServiceError.Kind.serverError))
        var errnos: [Int32?] = []
        for task in tasks {
            switch await task.value {
            case .success: errnos.append(nil)
            case .failure(let error): errnos.append(error.errno)
            }
        }
        #expect(errnos == Array(repeating: EIO, count: 33))
        #expect(gate.arrivals(of: "f", range: block0) == 1)
        // The failed block left the cache: the next read sends a new GET and gets the bytes.
        gate.open()
        let handle = try await fs.openFile("f")
        #expect(try await fs.read(handle: handle, offset: 0, size: 4096).bytes == Array(Self.content[0..<4096]))
        #expect(gate.arrivals(of: "f", range: block0) == 2)
    }

    @Test func aReaderIsAnsweredAsSoonAsItsBytesArriveBeforeTheBlockIsComplete() async throws {
        let handle = try await fs.openFile("f")
        let first = Task(executorPreference: executor) { [fs] in
            try await fs.read(handle: handle, offset: 0, size: 4096).bytes
        }
        #expect(await eventually { gate.held.contains { $0.range == block0 } })
        let get = try #require(gate.held.first { $0.range == block0 })
        gate.deliverPrefix(get, bytes: 8192)
        #expect(try await first.value == Array(Self.content[0..<4096]))
        // The GET is still held with most of the block to come; a reader of its tail waits for it.
        #expect(await eventually { gate.held.contains { $0.id == get.id } })
        #expect(fs.listedBlock(0, handle: handle)?.isComplete == false)
        let tail = Task(executorPreference: executor) { [fs] in
            try await fs.read(handle: handle, offset: 8192, size: Pipeline.block - 8192).bytes
        }
        #expect(await eventually { executor.isIdle && fs.listedBlock(0, handle: handle)?.hasWaiters == true })
        gate.release(get)
        #expect(try await tail.value == Array(Self.content[8192..<Pipeline.block]))
        #expect(gate.arrivals(of: "f", range: block0) == 1)
        gate.open()
    }
}
