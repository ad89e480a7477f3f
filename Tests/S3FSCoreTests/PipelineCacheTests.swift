import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

/// MemoryBlockCache over a MemoryBudget: what is evicted, in what order, and when memory returns.
@Suite struct PipelineCacheTests {
    static let length = 1000
    let budget = MemoryBudget(limit: 4 * Self.length)
    let cache: MemoryBlockCache

    init() {
        cache = MemoryBlockCache(pool: BlockMemoryPool(bufferSize: Self.length, budget: budget))
    }

    /// Empties the cache and the pool as far as eviction can, then gives that memory back.
    func drain() {
        #expect(cache.reserve(budget.limit, demand: true))
        budget.release(budget.limit)
    }

    static func key(_ index: UInt64) -> BlockKey { BlockKey(key: "f", etag: ETag("\"e\""), index: index) }

    /// Lists block `index` as the fetcher does (memory reserved first), filled completely unless `complete` is
    /// false, and read by a reader when `read`. Returns the buffer; callers that do not keep it let the cache be
    /// its only holder.
    @discardableResult
    func add(_ index: UInt64, complete: Bool = true, read: Bool = false) async throws -> BlockBuffer {
        let storage = try #require(cache.storage(length: Self.length, demand: true))
        let buffer = BlockBuffer(
            key: Self.key(index), objectOffset: index * UInt64(Self.length), length: Self.length, ticket: index,
            storage: storage, pool: cache.pool)
        let listed = cache.buffer(for: Self.key(index), make: { buffer })
        #expect(listed?.created == true)
        if complete {
            let bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: Self.length)
            bytes.withUnsafeBytes { buffer.receive($0) }
            buffer.finish()
            #expect(buffer.isComplete)
        }
        if read { try await buffer.waitFor(Self.length) }
        return buffer
    }

    func listed() -> Set<UInt64> { Set((0..<16).filter { cache.cached(Self.key($0)) != nil }) }

    /// Marks block `index` used now, as a reader finding it does.
    func touch(_ index: UInt64) {
        #expect(cache.buffer(for: Self.key(index), make: { nil })?.created == false)
    }

    @Test func reserveEvictsTheLeastRecentlyUsedReadBlockFirst() async throws {
        for index: UInt64 in 0..<4 { try await add(index, read: true) }
        #expect(budget.usedBytes == 4 * Self.length)
        touch(0)
        touch(2)
        // 1 and 3 are the oldest; 1 is older.
        #expect(cache.reserve(Self.length, demand: false))
        #expect(listed() == [0, 2, 3])
        #expect(budget.usedBytes == 4 * Self.length)
        #expect(cache.reserve(Self.length, demand: false))
        #expect(listed() == [0, 2])
        budget.release(2 * Self.length)
    }

    @Test func readBlocksGoBeforeUnreadPrefetchedOnesWhateverTheirAge() async throws {
        try await add(0, read: false)
        try await add(1, read: false)
        try await add(2, read: true)
        try await add(3, read: true)
        touch(2)
        touch(3)
        #expect(cache.reserve(Self.length, demand: true))
        #expect(listed() == [0, 1, 3])
        #expect(cache.reserve(Self.length, demand: true))
        #expect(listed() == [0, 1])
        // Only unread blocks are left: a demand read takes the oldest of them.
        touch(0)
        #expect(cache.reserve(Self.length, demand: true))
        #expect(listed() == [0])
        budget.release(3 * Self.length)
    }

    @Test func prefetchNeverEvictsUnreadBlocksAndFailsWhenOnlyThoseRemain() async throws {
        for index: UInt64 in 0..<4 { try await add(index, read: index == 3) }
        // The one read block goes...
        #expect(cache.reserve(Self.length, demand: false))
        #expect(listed() == [0, 1, 2])
        // ...then prefetch gets nothing and takes nothing.
        #expect(!cache.reserve(Self.length, demand: false))
        #expect(listed() == [0, 1, 2])
        #expect(budget.usedBytes == 4 * Self.length)
        budget.release(Self.length)
    }

    @Test func demandForcesOverTheLimitWhenNothingIsEvictable() async throws {
        // Four blocks being filled: nothing may be evicted.
        var filling: [BlockBuffer] = []
        for index: UInt64 in 0..<4 { filling.append(try await add(index, complete: false)) }
        #expect(!cache.reserve(Self.length, demand: false))
        #expect(cache.reserve(Self.length, demand: true))
        #expect(listed() == [0, 1, 2, 3])
        #expect(budget.usedBytes == 5 * Self.length)
        #expect(budget.peakBytes == 5 * Self.length)
        budget.release(Self.length)
        // Once complete (and read), they are evictable again.
        for buffer in filling {
            [UInt8](repeating: 1, count: Self.length).withUnsafeBytes { buffer.receive($0) }
            buffer.finish()
            try await buffer.waitFor(Self.length)
        }
        filling.removeAll()
        #expect(cache.reserve(Self.length, demand: false))
        #expect(listed().count == 3)
        budget.release(Self.length)
    }

    @Test func blocksBeingFilledAreNeverEvictedEvenWhenOld() async throws {
        let partial = try await add(0, complete: false)
        [UInt8](repeating: 0, count: 10).withUnsafeBytes { partial.receive($0) }
        for index: UInt64 in 1..<4 { try await add(index, read: true) }
        for _ in 0..<3 { #expect(cache.reserve(Self.length, demand: true)) }
        #expect(listed() == [0])
        #expect(cache.cached(Self.key(0)) === partial)
        budget.release(3 * Self.length)
    }

    @Test func memoryReturnsWhenTheLastHolderOfAnEvictedBlockLetsGo() async throws {
        var held: BlockBuffer? = try await add(0, read: true)
        for index: UInt64 in 1..<4 { try await add(index, read: true) }
        touch(1)
        touch(2)
        touch(3)
        // Block 0 is evicted first but a reader still holds it: its memory stays taken, so more is evicted.
        #expect(cache.reserve(Self.length, demand: false))
        #expect(listed() == [2, 3])
        #expect(budget.usedBytes == 4 * Self.length)
        #expect(held?.bytes(0..<4) .elementsEqual([0, 0, 0, 0]) == true)
        held = nil
        budget.release(Self.length)
        // Emptying the cache (and the pool of freed buffers) gives everything back.
        drain()
        #expect(cache.count == 0)
        #expect(budget.usedBytes == 0)
    }

    @Test func aFailedBlockLeavesTheCacheAndItsMemoryReturns() async throws {
        var buffer: BlockBuffer? = try await add(0, complete: false)
        buffer?.fail(FSError(errno: 5, "test"))
        // A failed block is never handed out again; a new one may take its key.
        #expect(cache.buffer(for: Self.key(0), make: { nil }) == nil)
        cache.remove(buffer!)
        #expect(cache.count == 0)
        #expect(budget.usedBytes == Self.length)
        buffer = nil
        drain()
        #expect(budget.usedBytes == 0)
    }

    @Test func aWaiterForRoomIsWokenByAReleaseAndGivesUpAtItsDeadline() async throws {
        let budget = MemoryBudget(limit: 100)
        #expect(budget.tryReserve(100))
        let before = budget.events
        async let woken = budget.waitForRoom(after: before, until: .now + .seconds(30))
        try await Task.sleep(for: .milliseconds(20))
        budget.release(60)
        #expect(await woken)
        // Nothing comes back: the wait ends at the deadline, and says so.
        #expect(await !budget.waitForRoom(after: budget.events, until: .now + .milliseconds(20)))
        budget.release(40)
    }

    @Test func aDemandWithoutOverLimitTakesNothingWhenOnlyBlocksBeingFilledRemain() async throws {
        var filling: [BlockBuffer] = []
        for index: UInt64 in 0..<4 { filling.append(try await add(index, complete: false)) }
        #expect(!cache.reserve(Self.length, demand: true, overLimit: false))
        #expect(budget.usedBytes == 4 * Self.length)
        // One completes (and so becomes evictable): the same demand now gets its memory within the limit.
        [UInt8](repeating: 1, count: Self.length).withUnsafeBytes { filling[0].receive($0) }
        filling[0].finish()
        filling.removeFirst()
        #expect(cache.reserve(Self.length, demand: true, overLimit: false))
        #expect(budget.usedBytes == 4 * Self.length)
        #expect(budget.peakBytes == 4 * Self.length)
        budget.release(Self.length)
        for buffer in filling { buffer.fail(FSError(errno: 5, "test")) }
    }

    @Test func theBudgetCountsTryAndForceReservationsAndThePeak() {
        let budget = MemoryBudget(limit: 100)
        #expect(budget.tryReserve(60))
        #expect(!budget.tryReserve(41))
        #expect(budget.tryReserve(40))
        budget.forceReserve(30)
        #expect(budget.usedBytes == 130)
        budget.release(100)
        #expect(budget.usedBytes == 30)
        #expect(budget.peakBytes == 130)
        budget.release(30)
        #expect(budget.usedBytes == 0)
    }
}
