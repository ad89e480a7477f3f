// BlockingIO: disk work that blocks a thread — fsync, fdatasync and journal appends of the writeback, reads and
// writes of the cache tier's block files — runs on threads of its own, never on Swift concurrency's cooperative
// pool. That pool has one thread per core (two here): a close waiting for the disk there would stall every read,
// upload and retry timer of the mount until the disk answered, and block files read on it would be read two at a
// time however many readers wait.
import Dispatch
import Synchronization

final class BlockingIO: Sendable {
    /// The writeback's fsyncs and journal appends.
    static let writeback = BlockingIO(label: "s3m-disk", lanes: 4)
    /// The cache tier's block file reads: eight lanes, so a cold page of one file does not hold up the reads of the
    /// others (sixteen kept 30-50 MiB more resident under a 64 MiB memory limit: each busy thread keeps its own malloc
    /// arena). Reads have lanes of their own: a read never waits behind the writes of blocks fetched earlier.
    static let cacheTierReads = BlockingIO(label: "s3m-tier-read", lanes: 8)
    /// The cache tier's block file writes (never waited for).
    static let cacheTierWrites = BlockingIO(label: "s3m-tier-write", lanes: 8)

    /// Serial queues (each on a thread libdispatch may add when the others block), used round robin: the lanes
    /// bound the threads this kind of work can take.
    private let queues: [DispatchQueue]
    private let next = Atomic<Int>(0)

    private init(label: String, lanes: Int) {
        queues = (0..<lanes).map { DispatchQueue(label: "\(label)-\($0)") }
    }

    /// The lanes in turn.
    private func nextQueue() -> DispatchQueue {
        queues[next.add(1, ordering: .relaxed).oldValue % queues.count]
    }

    /// Runs `body` on one of the lanes without waiting for it.
    func submit(_ body: @escaping @Sendable () -> Void) {
        nextQueue().async(execute: body)
    }

    func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let queue = nextQueue()
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(E) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }
}
