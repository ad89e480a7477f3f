import CFuse
import Glibc
import Synchronization

/// One FUSE request, answered exactly once. libfuse lets any thread reply, at any time after the callback has
/// returned; this wrapper makes "exactly once" hold: a second reply is dropped, and a request dropped without a
/// reply (a bug) is answered EIO in deinit rather than hanging the caller in the kernel forever.
@safe final class FuseRequest: @unchecked Sendable {
    // SAFETY: `raw` is only handed to libfuse's reply functions, which are thread-safe, and the `replied` flag
    // guarantees at most one of them runs for this request.
    private let raw: fuse_req_t
    private let replied = Atomic<Bool>(false)
    let operation: StaticString
    /// When the request arrived, for its duration in OperationMetrics.
    private let arrived = ContinuousClock.now
    private let metrics: OperationMetrics

    init(_ raw: fuse_req_t, operation: StaticString) {
        unsafe self.raw = raw
        self.operation = operation
        metrics = unsafe FuseContext.of(raw).metrics
    }

    /// Runs `body` with the raw request if nobody has replied yet. The request is counted first, so a caller whose
    /// system call the reply ends finds it in the metrics.
    func reply(_ body: (fuse_req_t) -> Void) {
        guard !replied.exchange(true, ordering: .acquiringAndReleasing) else { return }
        metrics.answered(operation, after: Int64((ContinuousClock.now - arrived) / .nanoseconds(1)))
        unsafe body(raw)
    }

    /// The raw request for fuse_add_direntry(_plus), which only reads session settings from it and does not reply.
    func withRawForBuffers<T>(_ body: (fuse_req_t) -> T) -> T {
        unsafe body(raw)
    }

    deinit {
        if !replied.load(ordering: .acquiring) { unsafe FuseCalls.replyError(raw, errno: EIO) }
    }
}
