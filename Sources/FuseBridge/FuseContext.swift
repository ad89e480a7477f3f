import CFuse
import Glibc
import Logging
import S3FSCore
import Synchronization

/// What every callback reaches through `fuse_req_userdata`: the core and the logger. Each callback copies its
/// arguments, then hands the work to a Task through `run`, which replies exactly once and logs a failure once.
final class FuseContext: Sendable {
    let fileSystem: FileSystem
    let logger: Logger
    /// Bytes the kernel may read ahead of a sequential reader (answered in init).
    let maxReadAhead: UInt32
    /// Every request a Task is working on; answered by FuseMount.requestExit when the process exits on a signal.
    let inFlight = InFlightRequests()
    /// Durations, errors and metadata hits, exported through swift-metrics and shown by `s3mount status`.
    let metrics = OperationMetrics()
    /// Set in init when the kernel was told that opens need no answer (a read-only mount, a kernel with FUSE's
    /// no_open): the first open is answered ENOSYS, after which the kernel sends no open, flush or release for
    /// files, and reads arrive without a handle.
    let opensAreImplicit = Atomic<Bool>(false)
    /// The session's address, set once it exists: what notify_store needs (libfuse gives a request no way to it).
    let sessionAddress = Atomic<UInt>(0)

    init(fileSystem: FileSystem, logger: Logger, maxReadAhead: UInt32) {
        self.fileSystem = fileSystem
        self.logger = logger
        self.maxReadAhead = maxReadAhead
    }

    /// `reply` as the open answers it: its pageData put in the kernel's page cache first, or, when the kernel
    /// does not take it, without the keep_cache that was to protect those pages.
    func withPagesStored(_ reply: OpenReply, inode: fuse_ino_t) -> OpenReply {
        guard let data = reply.pageData else { return reply }
        if let session = unsafe OpaquePointer(bitPattern: sessionAddress.load(ordering: .relaxed)),
            unsafe FuseCalls.store(session, inode: inode, data)
        {
            fileSystem.pagesHandedOver(data, handle: reply.handle)
            return reply
        }
        var refused = reply
        refused.keepCache = false
        return refused
    }

    static func of(_ req: fuse_req_t) -> FuseContext {
        // SAFETY: the userdata is the context passed to fuse_session_new, retained by FuseMount for the session.
        unsafe Unmanaged<FuseContext>.fromOpaque(fuse_req_userdata(req)!).takeUnretainedValue()
    }

    /// Runs `body` on a Task; an FSError becomes the error reply, logged once at the level it carries.
    func run(_ request: FuseRequest, _ body: @escaping @Sendable (FileSystem) async throws(FSError) -> Void) {
        guard inFlight.begin(request) else {
            unsafe request.reply { unsafe FuseCalls.replyError($0, errno: EIO) }
            return
        }
        Task {
            defer { inFlight.end(request) }
            do throws(FSError) {
                try await body(fileSystem)
            } catch {
                replyError(request, error)
            }
        }
    }

    /// Answers on the calling (session) thread when `immediate` can — no request to S3 or the disk is needed, so
    /// no task is started and no thread woken — and otherwise runs `later` on a Task. A small file that was
    /// prefetched is looked up, opened, read and closed this way without a single task switch.
    func answer<Value>(
        _ request: FuseRequest, immediate: (FileSystem) throws(FSError) -> Value?, reply: (fuse_req_t, Value) -> Void,
        later: @escaping @Sendable (FileSystem) async throws(FSError) -> Void
    ) {
        do throws(FSError) {
            if let value = try immediate(fileSystem) {
                unsafe request.reply { unsafe reply($0, value) }
                return
            }
        } catch {
            replyError(request, error)
            return
        }
        run(request, later)
    }

    func replyError(_ request: FuseRequest, _ error: FSError) {
        logger.log(level: error.logLevel, "\(error.message)", metadata: ["fuse.op": "\(request.operation)"])
        metrics.failed(request.operation, errno: error.errno, message: error.message)
        unsafe request.reply { unsafe FuseCalls.replyError($0, errno: error.errno) }
    }
}
