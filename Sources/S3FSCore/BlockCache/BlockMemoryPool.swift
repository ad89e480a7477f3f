// BlockMemoryPool: block-sized buffers kept for reuse.
//
// A freshly allocated 8 MiB buffer costs a page fault and a zeroed page for every 4 KiB the first time it is
// written; at a gigabyte a second that was a fifth of the daemon's CPU. Freed block memory is therefore kept here
// (up to `maxFree` buffers) and handed to the next block. Kept buffers stay counted in the MemoryBudget, so the
// budget still bounds everything the pipeline holds; when the budget is short, the pool gives its buffers back
// before any cached block is evicted. New buffers are aligned to 2 MiB and offered to the kernel as transparent huge
// pages, so filling one takes a few faults instead of one per 4 KiB.
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

final class BlockMemoryPool: Sendable {
    private struct Free: @unchecked Sendable {
        // SAFETY: a free buffer is owned by the pool alone; it is handed out to exactly one BlockBuffer.
        var buffers: [UnsafeMutableRawBufferPointer] = []
    }

    /// Bytes of every pooled buffer (the block size).
    let bufferSize: Int
    let maxFree: Int
    let budget: MemoryBudget
    private let free = Mutex(Free())

    init(bufferSize: Int, budget: MemoryBudget) {
        self.bufferSize = bufferSize
        self.budget = budget
        self.maxFree = max(1, min(32, budget.limit / bufferSize / 8))
    }

    /// A free buffer whose `bufferSize` bytes are already reserved in the budget, if one is kept.
    func takeReserved() -> UnsafeMutableRawBufferPointer? {
        free.withLock { $0.buffers.popLast() }
    }

    /// A new buffer; its bytes must have been reserved by the caller.
    func allocate() -> UnsafeMutableRawBufferPointer {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: Self.hugePage)
        #if canImport(Glibc)
        if bufferSize >= Self.hugePage { _ = madvise(buffer.baseAddress, bufferSize, MADV_HUGEPAGE) }
        #endif
        return buffer
    }

    private static let hugePage = 2 << 20

    /// Takes back a buffer (still reserved in the budget): kept for reuse, or freed and its bytes released.
    func recycle(_ buffer: UnsafeMutableRawBufferPointer) {
        let kept = free.withLock { state in
            guard state.buffers.count < maxFree else { return false }
            state.buffers.append(buffer)
            return true
        }
        if !kept {
            buffer.deallocate()
            budget.release(bufferSize)
        }
    }

    /// Frees one kept buffer and releases its bytes; false when none is kept.
    func releaseOne() -> Bool {
        guard let buffer = free.withLock({ $0.buffers.popLast() }) else { return false }
        buffer.deallocate()
        budget.release(bufferSize)
        return true
    }
}
