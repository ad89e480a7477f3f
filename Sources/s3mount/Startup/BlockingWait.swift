import Dispatch
import Synchronization

/// Waits on the main thread (never a Swift concurrency thread) for async work at start-up.
enum BlockingWait {
    private final class Slot<T: Sendable, E: Error>: Sendable {
        let value = Mutex<Result<T, E>?>(nil)
    }

    static func result<T: Sendable, E: Error>(_ body: @escaping @Sendable () async throws(E) -> T) -> Result<T, E> {
        let slot = Slot<T, E>()
        let done = DispatchSemaphore(value: 0)
        Task {
            let result: Result<T, E>
            do throws(E) { result = .success(try await body()) } catch { result = .failure(error) }
            slot.value.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return slot.value.withLock { $0! }
    }
}
