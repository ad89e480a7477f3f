// MemoryBlockCache: the blocks of every open file, shared by all handles and processes of the mount, bounded in
// bytes by the MemoryBudget.
//
// A block is listed here from the moment its GET starts, so a second reader of the same block — any handle, any
// process — finds the buffer being filled and waits on it instead of sending another GET (single-flight). A
// failed block leaves the cache at once, so the next reader tries again.
//
// Eviction is least-recently-used over complete blocks, with one refinement: blocks that were prefetched and not
// read yet are the last to go, and prefetch itself never evicts them (only a demand read may), so one reader's
// read-ahead cannot throw away another's. Blocks still being filled are never evicted. The index is small (the
// budget divided by the block size), so eviction scans it rather than keeping a linked list.
import Synchronization

final class MemoryBlockCache: Sendable {
    private struct Entry {
        let buffer: BlockBuffer
        var lastUse: UInt64
    }

    private struct State {
        var entries: [BlockKey: Entry] = [:]
        var tick: UInt64 = 0
    }

    private let state = Mutex(State())
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

    /// Unlists `buffer` (a failed fetch), unless another buffer has taken its key since.
    func remove(_ buffer: BlockBuffer) {
        state.withLock { state in
            if state.entries[buffer.key]?.buffer === buffer { state.entries[buffer.key] = nil }
        }
    }

    /// Block memory for a new block: a pooled buffer, or a new one once `reserve` has made room for it.
    func storage(demand: Bool) -> UnsafeMutableRawBufferPointer? {
        if let reused = pool.takeReserved() { return reused }
        return reserve(pool.bufferSize, demand: demand) ? pool.allocate() : nil
    }

    /// Reserves `bytes` in the budget, giving back pooled buffers and then evicting blocks until it fits. Prefetch (`demand` false) evicts only blocks
    /// that were already read; a demand read may evict unread prefetched blocks too, and when nothing more can be
    /// evicted it takes the memory anyway. Returns whether the bytes are reserved.
    func reserve(_ bytes: Int, demand: Bool) -> Bool {
        while !budget.tryReserve(bytes) {
            if pool.releaseOne() { continue }
            guard evictOne(includingUnread: demand) else {
                if demand { budget.forceReserve(bytes) }
                return demand
            }
        }
        return true
    }

    var count: Int { state.withLock { $0.entries.count } }

    private func evictOne(includingUnread: Bool) -> Bool {
        let victim: BlockBuffer? = state.withLock { state in
            var best: (key: BlockKey, rank: (UInt8, UInt64))?
            for (key, entry) in state.entries where entry.buffer.isComplete {
                let read = entry.buffer.wasRead
                guard read || includingUnread else { continue }
                let rank: (UInt8, UInt64) = (read ? 0 : 1, entry.lastUse)  // read blocks first, then by age
                if best == nil || rank < best!.rank { best = (key, rank) }
            }
            guard let best else { return nil }
            return state.entries.removeValue(forKey: best.key)?.buffer
        }
        // The victim's memory returns to the budget when its last reader lets go (here, if it has none).
        return victim != nil
    }
}
