// BlockMemoryPool: block memory, kept for reuse.
//
// A freshly allocated buffer costs a page fault and a zeroed page for every 4 KiB the first time it is written; at a
// gigabyte a second that was most of the daemon's CPU on a cold read. Full-size block buffers are therefore kept here
// when freed (up to `maxFree`: as many as the budget holds) and handed to the next block, so a long sequential read
// faults in its window once and then cycles the same pages. Kept buffers stay counted in the MemoryBudget, so the
// budget still bounds everything the pipeline holds, and the pool only ever holds what was in use at once: its bound is
// the budget, not a smaller share, because the memory in use rises and falls (eight readers' windows, blocks held while
// the cache tier writes them), and with a quarter of the budget as its bound the buffers freed at each fall were given
// back and faulted in fresh at the next rise (clear_page was 60% of the daemon's samples in such a run). When the
// budget is short, the pool gives its buffers back before any cached block is evicted. Full-size buffers are aligned to
// 2 MiB and offered to the kernel as transparent huge pages, so filling one takes a few faults instead of one per
// 4 KiB. Every buffer (small ones too) is faulted in when allocated (MADV_POPULATE_WRITE), on the thread that asks for
// the block: left to the first write, the faults (each zeroing 2 MiB) fell on the one thread that runs every transfer,
// inside its body callback, and held up all the others. Eight readers of 64 MiB shards on a fresh mount: daemon CPU
// 0.52-1.6 s per GiB (half the runs over 1 s, with 60% of it zeroing pages there), 527-749 MB/s; faulted in at
// allocation: 0.51-0.87 s, 590-743 MB/s (10 runs each).
//
// A block shorter than a quarter of the block size (a small file, the tail of a large one) gets a buffer of its own
// size, rounded up to a page, and counts only that in the budget: a dataset of 100 KiB samples caches 80 of them
// where a full-size buffer would hold one. Freed small buffers are kept too, by size, up to `maxFreeSmallBytes`
// (also counted in the budget): files of a dataset come in a few sizes, and a kept buffer is one malloc and a
// dozen page faults saved per file.
#if canImport(Glibc)
import Glibc
#endif

final class BlockMemoryPool: Sendable {
    @safe private struct Free: @unchecked Sendable {
        // SAFETY: a free buffer is owned by the pool alone; it is handed out to exactly one BlockBuffer.
        var buffers: [UnsafeMutableRawBufferPointer] = unsafe []
        /// Small buffers by capacity.
        var small: [Int: [UnsafeMutableRawBufferPointer]] = unsafe [:]
        var smallBytes = 0
    }

    /// Bytes of every pooled buffer (the block size).
    let bufferSize: Int
    let maxFree: Int
    let maxFreeSmallBytes: Int
    let budget: MemoryBudget
    private let free = SleepingLock(Free())

    init(bufferSize: Int, budget: MemoryBudget) {
        self.bufferSize = bufferSize
        self.budget = budget
        self.maxFree = max(1, budget.limit / bufferSize)
        self.maxFreeSmallBytes = budget.limit / 16
    }

    /// The bytes a block of `length` bytes takes from the budget: a full buffer, or its own size in pages.
    func capacity(forLength length: Int) -> Int {
        length > bufferSize / 4 ? bufferSize : (max(1, length) + Self.page - 1) / Self.page * Self.page
    }

    /// A kept buffer of `capacity` bytes, already reserved in the budget, if one is kept.
    func takeReserved(capacity: Int) -> UnsafeMutableRawBufferPointer? {
        unsafe free.withLock { free in
            guard capacity != bufferSize else { return unsafe free.buffers.popLast() }
            guard let buffer = unsafe free.small[capacity]?.popLast() else { return nil }
            free.smallBytes -= capacity
            return unsafe buffer
        }
    }

    /// A new buffer of `capacity` bytes (from `capacity(forLength:)`); its bytes must have been reserved by the caller.
    func allocate(capacity: Int) -> UnsafeMutableRawBufferPointer {
        guard capacity == bufferSize else {
            return unsafe Self.faultedIn(UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: Self.page))
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: Self.hugePage)
        #if canImport(Glibc)
        // SAFETY: madvise only marks the buffer's own `bufferSize` bytes.
        if bufferSize >= Self.hugePage { _ = unsafe madvise(buffer.baseAddress, bufferSize, MADV_HUGEPAGE) }
        #endif
        return unsafe Self.faultedIn(buffer)
    }

    /// `buffer` (page-aligned, whole pages) with its pages faulted in (zeroed) now, on this thread.
    private static func faultedIn(_ buffer: UnsafeMutableRawBufferPointer) -> UnsafeMutableRawBufferPointer {
        #if canImport(Glibc)
        // SAFETY: madvise touches only the buffer's own bytes, which nothing else uses yet.
        _ = unsafe madvise(buffer.baseAddress, buffer.count, MADV_POPULATE_WRITE)
        #endif
        return unsafe buffer
    }

    private static let page = 4096
    private static let hugePage = 2 << 20

    /// Takes back a buffer (still reserved in the budget): kept for reuse while there is room, else freed and its
    /// bytes released.
    func recycle(_ buffer: UnsafeMutableRawBufferPointer) {
        let kept = free.withLock { state in
            if buffer.count == bufferSize {
                guard unsafe state.buffers.count < maxFree else { return false }
                unsafe state.buffers.append(buffer)
            } else {
                guard state.smallBytes + buffer.count <= maxFreeSmallBytes else { return false }
                unsafe state.small[buffer.count, default: []].append(buffer)
                state.smallBytes += buffer.count
            }
            return true
        }
        if kept {
            // A demand read waiting for memory can take it.
            budget.notify()
        } else {
            // SAFETY: the buffer's holder gave it up and the pool did not keep it: it is freed exactly once, here.
            unsafe buffer.deallocate()
            budget.release(buffer.count)
        }
    }

    /// Frees one kept buffer (a full-size one first) and releases its bytes; false when none is kept.
    func releaseOne() -> Bool {
        let buffer = unsafe free.withLock { free -> UnsafeMutableRawBufferPointer? in
            if let full = unsafe free.buffers.popLast() { return unsafe full }
            guard let capacity = unsafe free.small.first(where: { unsafe !$0.value.isEmpty })?.key,
                let small = unsafe free.small[capacity]?.popLast()
            else { return nil }
            if unsafe free.small[capacity]?.isEmpty == true { unsafe free.small[capacity] = nil }
            free.smallBytes -= capacity
            return unsafe small
        }
        guard let buffer = unsafe buffer else { return false }
        // SAFETY: the buffer was just taken off the free list, so nothing else holds it; freed exactly once, here.
        unsafe buffer.deallocate()
        budget.release(buffer.count)
        return true
    }
}
