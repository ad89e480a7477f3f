// FuseMount: one libfuse session from mount to unmount.
//
// mount() creates the session with the callback table and mounts it (errors come back as a message, before any
// thread starts serving). run() serves requests on libfuse's multi-threaded loop on the calling thread until the
// filesystem is unmounted, by `fusermount3 -u` or by requestExit() (called on SIGINT/SIGTERM). The session is not
// destroyed afterwards: a reply still in flight on a Task must never touch freed memory, and the process exits.
import CFuse
import Glibc
import Logging
import S3FSCore

public struct FuseMountOptions: Sendable {
    public var mountpoint: String
    /// Shown in /proc/mounts as the source (e.g. "s3mount:bucket/prefix").
    public var fsName: String
    public var readOnly: Bool
    public var allowOther: Bool
    /// Upper bound on libfuse's session threads (they only read requests and hand them to Tasks).
    public var maxThreads: UInt32
    /// What the kernel may read ahead; the mount's read_ahead_kb is raised to the same value after mounting.
    public var maxReadAhead: UInt32

    public init(
        mountpoint: String, fsName: String, readOnly: Bool, allowOther: Bool, maxThreads: UInt32 = 8,
        maxReadAhead: UInt32 = 1 << 20
    ) {
        self.mountpoint = mountpoint
        self.fsName = fsName
        self.readOnly = readOnly
        self.allowOther = allowOther
        self.maxThreads = maxThreads
        self.maxReadAhead = maxReadAhead
    }

    /// The -o options for the kernel and fusermount3.
    var mountOptions: String {
        var options = ["fsname=\(fsName)", "subtype=s3mount", "default_permissions", "noatime"]
        if readOnly { options.append("ro") }
        if allowOther { options.append("allow_other") }
        return options.joined(separator: ",")
    }
}

public struct FuseMountError: Error, CustomStringConvertible {
    public var description: String
}

@safe public final class FuseMount: @unchecked Sendable {
    // SAFETY: `session` is set once in mount() before run(); requestExit() only calls libfuse functions that are
    // safe from another thread (fuse_session_exit sets a flag; unmount aborts the connection).
    private var session: OpaquePointer?
    private let context: FuseContext
    private let options: FuseMountOptions
    private let logger: Logger

    public init(fileSystem: FileSystem, options: FuseMountOptions, logger: Logger) {
        self.context = FuseContext(fileSystem: fileSystem, logger: logger, maxReadAhead: options.maxReadAhead)
        self.options = options
        self.logger = logger
    }

    public func mount() throws(FuseMountError) {
        var ops = FuseOperations.table()
        let userdata = unsafe Unmanaged.passRetained(context).toOpaque()
        let created = unsafe FuseCalls.newSession(options: options.mountOptions, ops: &ops, userdata: userdata)
        guard let created = unsafe created else {
            throw FuseMountError(description: "libfuse rejected the mount options \(options.mountOptions)")
        }
        unsafe session = created
        guard unsafe FuseCalls.mount(created, at: options.mountpoint) else {
            throw FuseMountError(description: "mounting \(options.mountpoint) failed (see the libfuse message above)")
        }
    }

    /// Serves requests until unmounted; returns the loop's status (0 after a clean unmount).
    public func run() -> Int32 {
        guard let session = unsafe session else { return -1 }
        let status = unsafe FuseCalls.loop(session, maxThreads: options.maxThreads)
        unsafe FuseCalls.unmount(session)
        return status
    }

    /// Stops serving and unmounts; safe to call from a signal-handling thread.
    public func requestExit() {
        guard let session = unsafe session else { return }
        unsafe FuseCalls.exit(session)
        unsafe FuseCalls.unmount(session)
    }
}
