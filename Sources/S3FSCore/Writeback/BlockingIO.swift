// BlockingIO: fsync, fdatasync and journal appends run on threads of their own, never on Swift concurrency's
// cooperative pool. That pool has one thread per core (two here): a close waiting for the disk there would stall
// every read, upload and retry timer of the mount until the disk answered.
import Dispatch
import Synchronization

enum BlockingIO {
    /// Serial queues (each on a thread libdispatch may add when the others block), used round robin.
    private static let queues = (0..<4).map { DispatchQueue(label: "s3m-disk-\($0)") }
    private static let next = Atomic<Int>(0)

    static func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let queue = queues[next.add(1, ordering: .relaxed).oldValue % queues.count]
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
