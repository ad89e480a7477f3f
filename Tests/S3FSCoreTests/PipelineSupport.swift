// Helpers for the read-pipeline tests: a task executor that can tell when every task on it is parked, bounded
// polling, and small files with known bytes.
import Dispatch
import Logging
import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs the tasks that prefer it on one serial queue and counts the jobs it has not finished. When the count is
/// zero, every task that prefers this executor is suspended (parked on a continuation) or done: that is how a test
/// knows "all 32 readers are waiting" without sleeping.
final class IdleTrackingExecutor: TaskExecutor, @unchecked Sendable {
    // SAFETY: the queue is serial; `pending` is atomic.
    private let queue = DispatchQueue(label: "s3mount.test.idle-tracking")
    private let pending = Atomic<Int>(0)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        pending.add(1, ordering: .sequentiallyConsistent)
        queue.async {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
            self.pending.subtract(1, ordering: .sequentiallyConsistent)
        }
    }

    var isIdle: Bool { pending.load(ordering: .sequentiallyConsistent) == 0 }
}

/// Polls `condition` until it holds or `timeout` passes (a bound for a hung test, not a stand-in for
/// synchronisation); returns its last value.
func eventually(
    timeout: Duration = .seconds(20), _ condition: () -> Bool
) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now >= deadline { return condition() }
        try? await Task.sleep(for: .milliseconds(1))
    }
    return true
}

/// A counter tasks bump, for "every reader has started".
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func increment() { value.add(1, ordering: .sequentiallyConsistent) }
    var count: Int { value.load(ordering: .sequentiallyConsistent) }
}

enum Pipeline {
    static let KiB = 1 << 10
    static let MiB = 1 << 20
    static let block = 64 << 10

    /// 64 KiB blocks, 128 KiB of kernel read-ahead (so the first window is 192 KiB), at most 512 KiB ahead.
    static func reads(
        memoryLimit: Int = 8 << 20, maxConcurrent: Int = 8, maxPrefetch: Int = 512 << 10,
        kernelReadAhead: Int = 128 << 10
    ) -> ReadPipelineConfig {
        ReadPipelineConfig(
            blockSize: block, maxPrefetch: maxPrefetch, memoryLimit: memoryLimit,
            maxConcurrentFetches: maxConcurrent, kernelReadAhead: kernelReadAhead)
    }

    static func fileSystem(_ store: any ObjectStore, reads: ReadPipelineConfig = reads(), ttl: Double = 3600)
        -> FileSystem
    {
        var config = ttl > 0 ? TestConfig.longTTL : TestConfig.noTTL
        config.reads = reads
        return makeFileSystem(store, config: config)
    }

    /// Bytes that differ at every offset of a file and between files.
    static func content(_ size: Int, seed: UInt64 = 1) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<size).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
    }

    /// The ranges of the GETs of `key` in the mock's call log, in order.
    static func getRanges(_ store: MockObjectStore, _ key: String) -> [Range<UInt64>] {
        store.calls.compactMap { call in
            guard case .get(let k, let range?, _) = call, k == key else { return nil }
            return range.lowerBound..<range.upperBound
        }
    }

    static func blockRange(_ index: Int, size: Int) -> ByteRange {
        ByteRange(UInt64(index * block)..<UInt64(min(size, (index + 1) * block)))
    }
}

extension FileSystem {
    func openFile(_ name: String) async throws -> UInt64 {
        let inode = try await lookup(parent: .root, name: name).attributes.inode
        return try await open(inode, flags: O_RDONLY).handle
    }

    func openReply(_ name: String) async throws -> OpenReply {
        let inode = try await lookup(parent: .root, name: name).attributes.inode
        return try await open(inode, flags: O_RDONLY)
    }

    /// The cache entry of block `index` of the version `handle` reads, if listed.
    func listedBlock(_ index: UInt64, handle: UInt64) -> BlockBuffer? {
        guard let file = files.get(handle) else { return nil }
        return fetcher.cache.cached(BlockKey(key: file.object.key, etag: file.object.etag, index: index))
    }

    var budget: MemoryBudget { fetcher.cache.budget }

    /// Empties the block cache as far as eviction can (a demand for the whole budget), then gives that memory back.
    func evictEverything() {
        let all = budget.limit
        _ = fetcher.cache.reserve(all, demand: true)
        budget.release(all)
    }
}
