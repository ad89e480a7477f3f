// FuseMount: one libfuse session from mount to unmount.
//
// mount() creates the session with the callback table and mounts it (errors come back as a message, before any
// thread starts serving). run() serves requests on libfuse's multi-threaded loop, on a thread of its own, until the
// filesystem is unmounted by `fusermount3 -u` (the loop ends) or requestExit() is called (SIGINT/SIGTERM). The exit
// does not wait for the loop: libfuse's threads sit in read() on /dev/fuse and would only notice at the next request,
// which never comes while callers wait for answers. requestExit answers every request in flight (a short grace, then
// EIO), unmounts lazily (open files do not block it), and lets run() return; the process then exits, and the kernel
// aborts the connection. The session is never destroyed: a reply still in flight on a Task must never touch freed
// memory. Whichever comes first, the loop's end or requestExit, unmounts; the other waits until that is done (the
// process must not exit between closing the device and the umount, which would leave the mount behind).
//
// On a mount that leases names to the kernel (FileSystem+Leases), the lease keeper runs from mount to unmount and
// its invalidations are written to the kernel on a queue of their own (a notify can wait for the kernel's lock
// on a directory while lookups in it are answered), never after the unmount has closed the device.
import CFuse
import Dispatch
import Foundation
import Glibc
import Logging
import Observability
import S3FSCore
import Synchronization

public struct FuseMountOptions: Sendable {
    public var mountpoint: String
    /// Shown in /proc/mounts as the source (e.g. "s3mount:bucket/prefix").
    public var fsName: String
    public var readOnly: Bool
    /// Programs on the mount may not be executed (mount(8)'s noexec).
    public var noExec: Bool
    public var allowOther: Bool
    /// libfuse's session threads. Most requests are handed to Tasks; a read of a block the cache tier holds is
    /// loaded on the session thread itself (no hand-off), so this also bounds the tier's reads in flight.
    public var maxThreads: UInt32
    /// What the kernel may read ahead; the mount's read_ahead_kb is raised to the same value after mounting.
    public var maxReadAhead: UInt32

    public init(
        mountpoint: String, fsName: String, readOnly: Bool, noExec: Bool = false, allowOther: Bool, maxThreads: UInt32 = 16,
        maxReadAhead: UInt32 = 1 << 20
    ) {
        self.mountpoint = mountpoint
        self.fsName = fsName
        self.readOnly = readOnly
        self.noExec = noExec
        self.allowOther = allowOther
        self.maxThreads = maxThreads
        self.maxReadAhead = maxReadAhead
    }

    /// The -o options for the kernel and fusermount3. Always nosuid and nodev (libfuse's defaults, written out): an
    /// object is never a device to open nor a set-id program to trust, whatever --file-mode says.
    var mountOptions: String {
        var options = ["fsname=\(fsName)", "subtype=s3mount", "default_permissions", "noatime", "nosuid", "nodev"]
        if readOnly { options.append("ro") }
        if noExec { options.append("noexec") }
        if allowOther { options.append("allow_other") }
        return options.joined(separator: ",")
    }
}

public struct FuseMountError: Error, CustomStringConvertible {
    public var description: String
}

@safe public final class FuseMount: @unchecked Sendable {
    // SAFETY: `session` is set once in mount() before run(); requestExit() only calls libfuse functions that are
    // safe from another thread (fuse_session_exit sets a flag; the unmount, claimed once, closes the device).
    private var session: OpaquePointer?
    private let context: FuseContext
    private let options: FuseMountOptions
    private let logger: Logger
    /// How long requests in flight at a signal may take to finish with their own answers before they get EIO.
    private static let exitGrace = DispatchTimeInterval.seconds(1)
    /// Set by the first requestExit; later signals change nothing.
    private let exiting = Atomic<Bool>(false)
    /// Set by whoever unmounts first (the loop's end or requestExit), held while it does: the other waits for the
    /// unmount to be done, so the process never exits between the device's close and the umount.
    private let unmounted = Mutex<Bool>(false)
    /// Signalled when the loop has ended or requestExit is done; run() returns then.
    private let finished = DispatchSemaphore(value: 0)
    private let loopStatus = Atomic<Int32>(0)
    /// The lease keeper, while it runs.
    private let leaseKeeper = Mutex<Task<Void, Never>?>(nil)
    /// Whether invalidations may still be written (false once the unmount is claimed); held while writing them.
    private let kernelReachable = Mutex<Bool>(true)
    private let invalidations = DispatchQueue(label: "s3m-lease-invalidations")

    public init(fileSystem: FileSystem, options: FuseMountOptions, logger: Logger) {
        self.context = FuseContext(fileSystem: fileSystem, logger: logger, maxReadAhead: options.maxReadAhead)
        self.options = options
        self.logger = logger
    }

    /// Lookups and getattrs answered from what s3mount knew (hits) and after asking S3 (misses), for status.
    public var metadataAnswers: (hits: UInt64, misses: UInt64) {
        (context.metrics.metadataHits.value, context.metrics.metadataMisses.value)
    }

    /// The last errors answered to applications, oldest first, for status.
    public var recentErrors: [RecentErrors.Entry] { context.metrics.recentErrors.all }

    public func mount() throws(FuseMountError) {
        var ops = FuseOperations.table()
        let userdata = unsafe Unmanaged.passRetained(context).toOpaque()
        let created = unsafe FuseCalls.newSession(options: options.mountOptions, ops: &ops, userdata: userdata)
        guard let created = unsafe created else {
            throw FuseMountError(description: "libfuse rejected the mount options \(options.mountOptions)")
        }
        unsafe session = created
        context.sessionAddress.store(UInt(bitPattern: created), ordering: .relaxed)
        guard unsafe FuseCalls.mount(created, at: options.mountpoint) else {
            throw FuseMountError(description: "mounting \(options.mountpoint) failed (see the libfuse message above)")
        }
    }

    /// Serves requests until unmounted or requestExit(); returns the loop's status (0 after a clean unmount or exit).
    public func run() -> Int32 {
        guard unsafe session != nil else { return -1 }
        let loop = Thread { [self] in
            guard let session = unsafe self.session else { return }
            loopStatus.store(unsafe FuseCalls.loop(session, maxThreads: options.maxThreads), ordering: .releasing)
            unsafe unmountOnce(session)
            finished.signal()
        }
        loop.name = "s3m-fuse-loop"
        loop.start()
        startLeaseKeeper()
        finished.wait()
        return loopStatus.load(ordering: .acquiring)
    }

    /// Answers what is in flight, unmounts and makes run() return; safe to call from a signal-handling thread, and
    /// more than once (only the first call acts).
    public func requestExit() {
        guard let session = unsafe session, !exiting.exchange(true, ordering: .acquiringAndReleasing) else { return }
        unsafe FuseCalls.exit(session)
        let failed = context.inFlight.close(grace: Self.exitGrace, failingWith: EIO)
        if failed > 0 {
            logger.notice("exiting: answered requests still in flight with EIO", metadata: ["count": "\(failed)"])
        }
        unsafe unmountOnce(session)
        finished.signal()
    }

    /// fuse_session_unmount (lazy: open files do not keep the mount) the first time only; it closes the device. A
    /// second caller returns once the first one's unmount is done.
    private func unmountOnce(_ session: OpaquePointer) {
        unmounted.withLock { done in
            guard !done else { return }
            leaseKeeper.withLock { $0?.cancel() }
            kernelReachable.withLock { $0 = false }
            unsafe FuseCalls.unmount(session)
            done = true
        }
    }

    private func startLeaseKeeper() {
        let keeper = context.fileSystem.keepLeases { [self] changes in
            invalidations.async { [self] in
                kernelReachable.withLock { reachable in
                    guard reachable, let session = unsafe self.session else { return }
                    for change in changes { unsafe FuseCalls.invalidate(session, change) }
                }
            }
        }
        leaseKeeper.withLock { $0 = keeper }
    }
}
