// BlockFetcher: turns "block i of this object version" into a BlockBuffer that is being filled, starting at most
// one GET per block across the whole mount (the cache lists a block from the moment its GET starts), within the
// memory budget and the scheduler's limits. With a cache tier (BlockTier), a block is looked for there before it
// takes a fetch slot; with the slot, its GET is claimed among the processes sharing the tier, and a block another
// process is fetching is waited for (at most crossProcessWait) and read from the tier; each block a GET completed
// is kept there. The tier's reads and writes never run on the cooperative pool: a demand read that arrives on a FUSE
// thread looks for its block (opens the file) and loads it right there, so a hit costs no hand-off at all; other
// blocks (read-ahead, prefetch) are looked for and loaded on a tier read lane with no task in between; a miss starts
// its GET's task from there. Writes have lanes of their own. The claims (locks held in the kernel) are asked inline.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import ObjectStore

/// The version of an object a handle reads: its key, the ETag pinned at open, and its size.
struct ObjectVersion: Sendable, Hashable {
    var key: String
    var etag: ETag
    var size: UInt64
}

final class BlockFetcher: Sendable {
    let store: any ObjectStore
    let cache: MemoryBlockCache
    let tier: (any BlockTier)?
    let scheduler: FetchScheduler
    let blockSize: Int

    init(
        store: any ObjectStore, cache: MemoryBlockCache, tier: (any BlockTier)? = nil, scheduler: FetchScheduler,
        blockSize: Int
    ) {
        self.store = store
        self.cache = cache
        self.tier = tier
        self.scheduler = scheduler
        self.blockSize = blockSize
    }

    func blockIndex(of offset: UInt64) -> UInt64 { offset / UInt64(blockSize) }

    func blockCount(of object: ObjectVersion) -> UInt64 { (object.size + UInt64(blockSize) - 1) / UInt64(blockSize) }

    /// The bytes block `index` of `object` holds: the block size, less at the end of the object.
    func blockLength(_ index: UInt64, of object: ObjectVersion) -> Int {
        Int(min(UInt64(blockSize), object.size - index * UInt64(blockSize)))
    }

    /// The buffer of block `index`, its GET started if nobody had. A prefetch gets nil when the memory budget has no
    /// room for it; a demand request always gets one, unless `overLimit` is false and the budget is full after
    /// eviction. `lead`: how far ahead of its reader a prefetch is; `loadingTierHere`, `tierLacksIt`: see startFetch.
    func block(
        _ index: UInt64, of object: ObjectVersion, priority: FetchScheduler.Priority, lead: UInt64 = 0,
        overLimit: Bool = true, loadingTierHere: Bool = false, tierLacksIt: Bool = false
    ) -> BlockBuffer? {
        let key = BlockKey(key: object.key, etag: object.etag, index: index)
        if let listed = listedBlock(index, of: object) {
            if priority == .demand { scheduler.promote(listed.ticket) }
            return listed
        }
        let start = index * UInt64(blockSize)
        let length = blockLength(index, of: object)
        guard let storage = unsafe cache.storage(length: length, demand: priority == .demand, overLimit: overLimit)
        else { return nil }
        let fresh = unsafe BlockBuffer(
            key: key, objectOffset: start, length: length, ticket: scheduler.makeTicket(), storage: storage,
            pool: cache.pool)
        guard let (buffer, created) = cache.buffer(for: key, make: { fresh }) else { return nil }
        if created {
            startFetch(
                buffer, of: object, priority: priority, lead: lead, loadingTierHere: loadingTierHere,
                tierLacksIt: tierLacksIt)
        } else if priority == .demand {
            scheduler.promote(buffer.ticket)
        }
        return buffer
    }

    /// How long a demand read waits for memory before it takes it over the limit. Memory comes back as blocks
    /// are read through; only stalled GETs, or reads holding blocks while waiting for more, make it wait that long.
    static let demandMemoryWait = Duration.seconds(1)

    /// The buffer of block `index` for a demand read. When the budget is full and nothing can be evicted, waits
    /// for memory to come back instead of taking it over the limit (100 readers starting at once otherwise each
    /// took a block over a 64 MiB limit: 103-119 MiB in use), and takes it anyway after demandMemoryWait.
    func demandBlock(_ index: UInt64, of object: ObjectVersion) async -> BlockBuffer {
        let deadline = ContinuousClock.now + Self.demandMemoryWait
        while true {
            let events = cache.budget.events
            if let block = block(index, of: object, priority: .demand, overLimit: false) {
                // Room may be left for the next waiter.
                cache.budget.notify()
                return block
            }
            guard await cache.budget.waitForRoom(after: events, until: deadline) else { break }
        }
        return block(index, of: object, priority: .demand)!
    }

    /// Whether the cache tier has a file for block `index` (a directory lookup; false without a tier).
    func tierMayHold(_ index: UInt64, of object: ObjectVersion) -> Bool {
        guard let tier else { return false }
        return tier.mayHold(
            BlockKey(key: object.key, etag: object.etag, index: index), length: blockLength(index, of: object))
    }

    /// The buffer of block `index` if the cache lists it (complete or being filled); starts nothing.
    func listedBlock(_ index: UInt64, of object: ObjectVersion) -> BlockBuffer? {
        cache.buffer(for: BlockKey(key: object.key, etag: object.etag, index: index), make: { nil })?.buffer
    }

    /// The buffer of the record at `offset` (read-ahead of a strided reader), its GET started if nobody had; nil
    /// when the memory budget has no room for it.
    func record(at offset: UInt64, length: Int, of object: ObjectVersion, lead: UInt64) -> BlockBuffer? {
        let key = BlockKey(key: object.key, etag: object.etag, index: offset, recordLength: length)
        if let listed = cache.cached(key), !listed.isFailed { return listed }
        guard let storage = unsafe cache.storage(length: length, demand: false) else { return nil }
        let fresh = unsafe BlockBuffer(
            key: key, objectOffset: offset, length: length, ticket: scheduler.makeTicket(), storage: storage,
            pool: cache.pool)
        guard let (buffer, created) = cache.buffer(for: key, make: { fresh }) else { return nil }
        if created { startFetch(buffer, of: object, priority: .prefetch, lead: lead) }
        return buffer
    }

    /// The bytes of `range`, outside the block cache (random reads): from the cache tier when it holds the block
    /// they lie in, else a GET of exactly that range. The range lies inside the object, so a shorter answer (a
    /// server that says the object ends earlier) is an error, as it is for a block.
    func range(_ range: ByteRange, of object: ObjectVersion) async throws(FSError) -> [UInt8] {
        let index = blockIndex(of: range.lowerBound)
        if let tier, range.count > 0, blockIndex(of: range.upperBound - 1) == index {
            let start = index * UInt64(blockSize)
            let key = BlockKey(key: object.key, etag: object.etag, index: index)
            let length = blockLength(index, of: object)
            let inBlock = Int(range.lowerBound - start)..<Int(range.upperBound - start)
            if let file = tier.openBlock(key, length: length),
                let bytes = await BlockingIO.cacheTierReads.run({ tier.read(inBlock, of: file) })
            {
                return bytes
            }
        }
        let ticket = scheduler.makeTicket()
        guard await scheduler.acquire(ticket, priority: .demand) else { throw .cancelled(object.key) }
        defer { scheduler.release(ticket) }
        let bytes: [UInt8]
        do {
            bytes = try await store.get(key: object.key, range: range, ifMatch: object.etag)
        } catch {
            throw Self.readError(error, object)
        }
        guard bytes.count == range.count else {
            throw FSError(errno: EIO, "GET of \(object.key) ended early: \(bytes.count) of \(range.count) bytes", logLevel: .error)
        }
        return bytes
    }

    /// The errno of a failed GET. Every range read lies inside the object, so a 416 means a server that contradicts
    /// the object's size (which the pinned ETag fixes): EIO, like any other garbled answer, not EINVAL.
    private static func readError(_ error: ObjectStoreError, _ object: ObjectVersion) -> FSError {
        if case .service(let service) = error, service.kind == .invalidRange {
            return FSError(errno: EIO, "GET of \(object.key): the server says the object is shorter: \(error)", logLevel: .error)
        }
        return FSError(error, operation: "read", key: object.key)
    }

    /// How long a fetch waits for another process's GET of the same block before it sends its own.
    static let crossProcessWait = Duration.seconds(5)

    /// Starts filling `buffer`: from the tier when it has the block's file, else by a GET in a task. The tier's
    /// file is read on a tier lane with no task in between (a task would cost two more thread hand-offs per block),
    /// or on this thread when `loadingTierHere` (a FUSE thread: none at all). `tierLacksIt`: the caller has just
    /// found no file for the block (DatasetReadAhead), so the GET's task starts at once, without a hand-off to a lane
    /// to look again; the task still looks once it has claimed the fetch (another process may have stored it since).
    private func startFetch(
        _ buffer: BlockBuffer, of object: ObjectVersion, priority: FetchScheduler.Priority, lead: UInt64,
        loadingTierHere: Bool = false, tierLacksIt: Bool = false
    ) {
        guard let tier, !tierLacksIt else {
            buffer.attach(fetchTask(buffer, of: object, priority: priority, lead: lead))
            return
        }
        let loadOrFetch: @Sendable () -> Void = { [self] in
            if let file = tier.openBlock(buffer.key, length: buffer.length), tier.load(buffer, from: file) { return }
            buffer.attach(fetchTask(buffer, of: object, priority: priority, lead: lead))
        }
        if loadingTierHere {
            loadOrFetch()
        } else {
            BlockingIO.cacheTierReads.submit(loadOrFetch)
        }
    }

    /// The task that fills `buffer` by a GET (once the tier, shared with other processes, does not have it).
    private func fetchTask(
        _ buffer: BlockBuffer, of object: ObjectVersion, priority: FetchScheduler.Priority, lead: UInt64
    ) -> Task<Void, Never> {
        Task { [store, cache, tier, scheduler] in
            guard await scheduler.acquire(buffer.ticket, priority: priority, lead: lead) else {
                buffer.fail(.cancelled(object.key))
                cache.remove(buffer)
                return
            }
            var claim: FetchClaim?
            if let tier {
                switch await Self.claimOrJoin(buffer, in: tier) {
                case .loaded:
                    scheduler.release(buffer.ticket)
                    return
                case .claimed(let claimed):
                    claim = claimed
                case .unclaimed:
                    break
                }
            }
            do throws(ObjectStoreError) {
                try await store.get(
                    key: object.key, range: Self.getRange(of: buffer, in: object), ifMatch: object.etag, into: buffer)
                buffer.finish()
            } catch {
                buffer.fail(Task.isCancelled ? .cancelled(object.key) : Self.readError(error, object))
            }
            scheduler.release(buffer.ticket)
            if buffer.isFailed {
                cache.remove(buffer)
            } else if let tier {
                // The claim ends (a waiting process reads the tier) once the block is there.
                tier.storeLater(buffer, releasing: claim)
            }
        }
    }

    /// The range a GET of `buffer`'s bytes asks for: none when they are the whole object (a small file, or a file of
    /// one block). A ranged GET costs the server more than a plain one: 4,000 GETs of ~100 KiB objects by curl, three
    /// rounds, took radosgw 8-32% more CPU (median 18%) and its OSD 4-26% more with a Range header than without, and
    /// ran 7-19% slower. The answer is checked the same way (its length, and the ETag by If-Match), and the buffer
    /// takes no byte past its length.
    static func getRange(of buffer: BlockBuffer, in object: ObjectVersion) -> ByteRange? {
        if buffer.objectOffset == 0, UInt64(buffer.length) == object.size { return nil }
        return ByteRange(buffer.objectOffset..<buffer.objectOffset + UInt64(buffer.length))
    }

    /// Fills `buffer` from the tier when it has the block's file: the open is inline, the read on the tier's threads.
    private static func load(_ buffer: BlockBuffer, from tier: any BlockTier) async -> Bool {
        guard let file = tier.openBlock(buffer.key, length: buffer.length) else { return false }
        return await BlockingIO.cacheTierReads.run { tier.load(buffer, from: file) }
    }

    private enum CrossProcessFetch {
        /// Another process fetched the block and the tier gave it to us.
        case loaded
        /// This process fetches it; others wait until the claim ends.
        case claimed(FetchClaim)
        /// Fetch without a claim: none could be made, or the other process took too long.
        case unclaimed
    }

    /// Claims the GET of `buffer`'s block among the processes sharing `tier`, or, while another one holds that
    /// claim, waits for it to end (polling, at most crossProcessWait) and loads the block it stored.
    private static func claimOrJoin(_ buffer: BlockBuffer, in tier: any BlockTier) async -> CrossProcessFetch {
        let deadline = ContinuousClock.now + crossProcessWait
        var pause = Duration.milliseconds(1)
        while true {
            switch tier.claimFetch(of: buffer) {
            case .claimed(let claim):
                // Another process may have stored the block between our look and our claim (or while we waited).
                return await load(buffer, from: tier) ? .loaded : .claimed(claim)
            case .unavailable:
                return .unclaimed
            case .busy:
                guard ContinuousClock.now < deadline, (try? await Task.sleep(for: pause)) != nil else { return .unclaimed }
                pause = min(pause * 2, .milliseconds(20))
            }
        }
    }
}
