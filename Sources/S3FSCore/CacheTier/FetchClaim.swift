// FetchClaim: single-flight across the processes that share a cache directory. Before its GET, a process takes an
// exclusive flock on DIR/locks/<the block file's name>.lock; another process that wants the same block while the
// claim is held sees it busy, waits for it to end and reads the block from the tier instead of fetching it again.
// The kernel drops a killed holder's flock, so a claim never outlives its process; the lock file is removed when
// the claim ends (a waiter still polling an unlinked file wins its lock the moment the holder closes it).
#if canImport(Glibc)
import Glibc
#endif

/// The right to fetch one block that no other process sharing the tier is fetching.
final class FetchClaim: Sendable {
    enum Outcome: Sendable {
        /// This process fetches the block; end the claim once it is stored or its fetch failed.
        case claimed(FetchClaim)
        /// Another process is fetching the block right now.
        case busy
        /// No claim can be made here (the lock directory is unusable): fetch without one.
        case unavailable
    }

    private let path: String
    private let descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    /// Tries to claim the block whose lock file is `path`, without waiting.
    static func take(_ path: String) -> Outcome {
        let descriptor = unsafe open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return .unavailable }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            close(descriptor)
            return busy ? .busy : .unavailable
        }
        return .claimed(FetchClaim(path: path, descriptor: descriptor))
    }

    deinit {
        _ = unsafe unlink(path)
        close(descriptor)
    }
}
