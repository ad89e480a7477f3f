// MemoryBlockCache: the blocks of every open file, shared by all handles and processes of the mount, bounded in
// bytes by the MemoryBudget.
//
// A block is listed here from the moment its GET starts, so a second reader of the same block — any handle, any
// process — finds the buffer being filled and waits on it instead of sending another GET (single-flight). A
// failed block leaves the cache at once, so the next reader tries again.
//
// Eviction is least-recently-used over complete blocks, with one refinement: blocks that were prefetched and not
// read yet are the last to go, and prefetch itself never evicts them (only a demand read may), so one reader's
// read-ahead cannot throw away another's; and within each of those ranks, blocks the cache tier also holds go
// first (a second read of them costs a local file read, not a GET). Blocks still being filled are never evicted.
// Eviction scans the index and takes a batch (at least 1/32 of the budget) at a time, so a cache of ten thousand
// small files is not scanned once per new file, and no linked list has to be kept in order on every hit.
//
// A block whose every byte has been handed to the kernel is retired at once (FileSystem decides when: not for
// O_DIRECT handles, nor while several handles read the file): the kernel's page cache now holds its pages and
// answers every re-read (s3mount keeps the page cache across opens of the same version), so keeping a second copy
// here would only push the budget's worth of fresh pages through a long read. Its buffer goes back to the pool when
// the last holder lets go, and the next block reuses it.

final class MemoryBlockCache: Sendable {
    private struct Entry {
        let buffer: BlockBuffer
        var lastUse: UInt64
    }

    private struct State {
        var entries: [BlockKey: Entry] = [:]
        var tick: UInt64 = 0
    }

    private let state = SleepingLock(State())
    let pool: BlockMemoryPool
    var budget: MemoryBudget { pool.budget }

    init(pool: BlockMemoryPool) {
        self.pool = pool
    }

    /// The listed buffer for `key`, or the one `make` creates and lists. `make` runs under the cache's lock and
    /// returns nil when no memory could be had (then nothing is listed).
    func buffer(for key: BlockKey, make: () -> BlockBuffer?) -> (buffer: BlockBuffer, created: Bool)? {
        state.withLock { state in
            state.tick += 1
            if let entry = state.entries[key], !entry.buffer.isFailed {
                state.entries[key]?.lastUse = state.tick
                return (entry.buffer, false)
            }
            guard let buffer = make() else { return nil }
            state.entries[key] = Entry(buffer: buffer, lastUse: state.tick)
            return (buffer, true)
        }
    }

    /// The listed buffer for `key`, if any; for tests and metrics.
    func cached(_ key: BlockKey) -> BlockBuffer? {
        state.withLock { $0.entries[key]?.buffer }
    }

    /// The extents of the records of `key` listed (any version); for tests and metrics.
    func cachedRecords(of key: String) -> [Range<UInt64>] {
        state.withLock { state in
            state.entries.values.compactMap { entry in
                let block = entry.buffer
                guard block.key.key == key, block.key.recordLength > 0 else { return nil }
                return block.objectOffset..<block.objectOffset + UInt64(block.length)
            }
        }
    }

    /// Unlists `buffer` (a failed fetch), unless another buffer has taken its key since.
    func remove(_ buffer: BlockBuffer) {
        state.withLock { state in
            if state.entries[buffer.key]?.buffer === buffer { state.entries[buffer.key] = nil }
        }
    }

    /// Unlists `buffer` once all its bytes are in (its transfer may not have reported its end yet) and if it is
    /// still listed: a sequential reader has read it through.
    func retire(_ buffer: BlockBuffer) {
        guard buffer.has(buffer.length) else { return }
        remove(buffer)
    }

    /// Memory for a new block of `length` bytes: a pooled buffer, or a new one once there is room in the budget —
    /// made by giving back pooled buffers of other sizes, then by evicting blocks. An evicted block's buffer comes
    /// back to the pool (when its last reader lets go) and is taken from there on the next turn, never freed and
    /// allocated again: a new buffer costs a zeroed page per 4 KiB on first write (four readers of a 2 GiB file at
    /// a full 1 GiB budget faulted in 178 buffers of 8 MiB, freeing 56 just-recycled ones, where 128 fit; now 128,
    /// and 6 freed). When no room can be made, `reserve` decides (a demand read may go over the limit). Nil when
    /// there is no room.
    func storage(length: Int, demand: Bool, overLimit: Bool = true) -> UnsafeMutableRawBufferPointer? {
        let capacity = pool.capacity(forLength: length)
        while true {
            if let reused = unsafe pool.takeReserved(capacity: capacity) { return unsafe reused }
            if budget.tryReserve(capacity) { return unsafe pool.allocate(capacity: capacity) }
            guard makeRoom(for: capacity, demand: demand) else {
                return unsafe reserve(capacity, demand: demand, overLimit: overLimit) ? pool.allocate(capacity: capacity) : nil
            }
        }
    }

    /// Reserves `bytes` in the budget (no buffer), giving back pooled buffers and then evicting blocks until it fits.
    /// Prefetch (`demand` false) evicts only blocks that were already read; a demand read may evict unread prefetched
    /// blocks too, and when nothing more can be evicted it takes the memory anyway if `overLimit`. Returns whether the
    /// bytes are reserved.
    func reserve(_ bytes: Int, demand: Bool, overLimit: Bool = true) -> Bool {
        while !budget.tryReserve(bytes) {
            guard makeRoom(for: bytes, demand: demand) else {
                guard demand, overLimit else { return false }
                budget.forceReserve(bytes)
                return true
            }
        }
        return true
    }

    /// One step towards room for `bytes`: a pooled buffer given back, else blocks evicted. False when neither can be.
    private func makeRoom(for bytes: Int, demand: Bool) -> Bool {
        if pool.releaseOne() { return true }
        return evict(atLeast: max(bytes, budget.limit / 32), includingUnread: demand)
    }

    var count: Int { state.withLock { $0.entries.count } }

    /// Unlists the lowest-ranked complete blocks — read ones first, then those the tier holds, then by age — until
    /// their buffers add up to `bytes`. False when nothing could be evicted.
    private func evict(atLeast bytes: Int, includingUnread: Bool) -> Bool {
        let victims: [BlockBuffer] = state.withLock { state in
            var candidates: [(key: BlockKey, rank: (UInt8, UInt8, UInt64), capacity: Int)] = []
            for (key, entry) in state.entries where entry.buffer.isComplete {
                let read = entry.buffer.wasRead
                guard read || includingUnread else { continue }
                let rank = (UInt8(read ? 0 : 1), UInt8(entry.buffer.isInTier ? 0 : 1), entry.lastUse)
                candidates.append((key, rank, entry.buffer.capacity))
            }
            candidates.sort { $0.rank < $1.rank }
            var freed = 0
            var victims: [BlockBuffer] = []
            for candidate in candidates where freed < bytes {
                guard let victim = state.entries.removeValue(forKey: candidate.key)?.buffer else { continue }
                victims.append(victim)
                freed += candidate.capacity
            }
            return victims
        }
        // The victims' memory returns to the budget when their last readers let go (here, if they have none).
        return !victims.isEmpty
    }
}
