// SleepingLock: a lock whose waiters go to sleep at once (a glibc pthread mutex: one compare-and-swap when free, a
// futex wait when not), for state that every FUSE thread touches per request. Swift's Mutex spins about a thousand
// times before it sleeps: with eight FUSE threads and the job's own processes on two cores, a holder is often
// preempted inside its few instructions, and its waiters spun out their time slices while it could not run (46% of
// the daemon's samples in a writable epoch 2 of small files were spins on the inode table's lock).
#if canImport(Glibc)
import Glibc
#endif

@safe package final class SleepingLock<Value>: @unchecked Sendable {
    // SAFETY (@unchecked Sendable): `value` is only touched inside withLock, under `mutex`.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @exclusivity(unchecked) private var value: Value

    package init(_ value: Value) {
        unsafe mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        unsafe mutex.initialize(to: pthread_mutex_t())
        _ = unsafe pthread_mutex_init(mutex, nil)
        unsafe self.value = value
    }

    deinit {
        _ = unsafe pthread_mutex_destroy(mutex)
        unsafe mutex.deallocate()
    }

    package func withLock<Result, E: Error>(_ body: (inout Value) throws(E) -> Result) throws(E) -> Result {
        _ = unsafe pthread_mutex_lock(mutex)
        defer { _ = unsafe pthread_mutex_unlock(mutex) }
        return try unsafe body(&value)
    }
}
