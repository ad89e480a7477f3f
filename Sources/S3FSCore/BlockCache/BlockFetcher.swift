// BlockFetcher: turns "block i of this object version" into a BlockBuffer that is being filled, starting at most
// one GET per block across the whole mount (the cache lists a block from the moment its GET starts), within the
// memory budget and the scheduler's limits. With a cache tier (BlockTier), a block is looked for there before it
// takes a fetch slot, and each block a GET completed is kept there.
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

    /// The buffer of block `index`, its GET started if nobody had. A demand request always gets one; a prefetch
    /// gets nil when the memory budget has no room for it.
    func block(_ index: UInt64, of object: ObjectVersion, priority: FetchScheduler.Priority) -> BlockBuffer? {
        let key = BlockKey(key: object.key, etag: object.etag, index: index)
        if let listed = listedBlock(index, of: object) {
            if priority == .demand { scheduler.promote(listed.ticket) }
            return listed
        }
        let start = index * UInt64(blockSize)
        let length = Int(min(UInt64(blockSize), object.size - start))
        guard let storage = unsafe cache.storage(length: length, demand: priority == .demand) else { return nil }
        let fresh = unsafe BlockBuffer(
            key: key, objectOffset: start, length: length, ticket: scheduler.makeTicket(), storage: storage,
            pool: cache.pool)
        guard let (buffer, created) = cache.buffer(for: key, make: { fresh }) else { return nil }
        if created {
            buffer.attach(startFetch(buffer, of: object, priority: priority))
        } else if priority == .demand {
            scheduler.promote(buffer.ticket)
        }
        return buffer
    }

    /// The buffer of block `index` if the cache lists it (complete or being filled); starts nothing.
    func listedBlock(_ index: UInt64, of object: ObjectVersion) -> BlockBuffer? {
        cache.buffer(for: BlockKey(key: object.key, etag: object.etag, index: index), make: { nil })?.buffer
    }

    /// The buffer of the record at `offset` (read-ahead of a strided reader), its GET started if nobody had; nil
    /// when the memory budget has no room for it.
    func record(at offset: UInt64, length: Int, of object: ObjectVersion) -> BlockBuffer? {
        let key = BlockKey(key: object.key, etag: object.etag, index: offset, recordLength: length)
        if let listed = cache.cached(key), !listed.isFailed { return listed }
        guard let storage = unsafe cache.storage(length: length, demand: false) else { return nil }
        let fresh = unsafe BlockBuffer(
            key: key, objectOffset: offset, length: length, ticket: scheduler.makeTicket(), storage: storage,
            pool: cache.pool)
        guard let (buffer, created) = cache.buffer(for: key, make: { fresh }) else { return nil }
        if created { buffer.attach(startFetch(buffer, of: object, priority: .prefetch)) }
        return buffer
    }

    /// A GET of exactly `range`, outside the block cache (random reads). The range lies inside the object, so a
    /// shorter answer (a server that says the object ends earlier) is an error, as it is for a block.
    func range(_ range: ByteRange, of object: ObjectVersion) async throws(FSError) -> [UInt8] {
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

    private func startFetch(
        _ buffer: BlockBuffer, of object: ObjectVersion, priority: FetchScheduler.Priority
    ) -> Task<Void, Never> {
        Task { [store, cache, tier, scheduler] in
            if let tier, tier.load(buffer) { return }
            guard await scheduler.acquire(buffer.ticket, priority: priority) else {
                buffer.fail(.cancelled(object.key))
                cache.remove(buffer)
                return
            }
            let range = ByteRange(buffer.objectOffset..<buffer.objectOffset + UInt64(buffer.length))
            do throws(ObjectStoreError) {
                try await store.get(key: object.key, range: range, ifMatch: object.etag, into: buffer)
                buffer.finish()
            } catch {
                buffer.fail(Task.isCancelled ? .cancelled(object.key) : Self.readError(error, object))
            }
            scheduler.release(buffer.ticket)
            if buffer.isFailed {
                cache.remove(buffer)
            } else {
                tier?.store(buffer)
            }
        }
    }
}
