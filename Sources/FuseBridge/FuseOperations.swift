// The libfuse low-level callbacks. Each one copies its arguments (libfuse's pointers die when it returns), wraps the
// request, and hands the work to the core on a Task; the reply comes from that Task. No callback waits for S3, so
// libfuse's session threads are always free to read the next request. No filesystem logic lives here.
import CFuse
import Glibc
import S3FSCore

enum FuseOperations {
    static func table() -> fuse_lowlevel_ops {
        var ops = fuse_lowlevel_ops()
        unsafe ops.`init` = initialize
        unsafe ops.lookup = lookup
        unsafe ops.forget = forget
        unsafe ops.forget_multi = forgetMulti
        unsafe ops.getattr = getattr
        unsafe ops.statfs = statfs
        unsafe ops.opendir = opendir
        unsafe ops.readdir = readdir
        unsafe ops.readdirplus = readdirplus
        unsafe ops.releasedir = releasedir
        unsafe ops.open = open
        unsafe ops.read = read
        unsafe ops.release = release
        FuseWriteOperations.install(into: &ops)
        return ops
    }

    /// The 1 MiB request size (256 pages, the kernel's default max_pages limit).
    static let maxRequestBytes: UInt32 = 1 << 20

    static let initialize: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<fuse_conn_info>?) -> Void = {
        userdata, conn in
        guard let conn = unsafe conn, let userdata = unsafe userdata else { return }
        // SAFETY: the userdata is the context passed to fuse_session_new, retained by FuseMount for the session.
        let context = unsafe Unmanaged<FuseContext>.fromOpaque(userdata).takeUnretainedValue()
        let wanted = UInt32(FUSE_CAP_ASYNC_READ | FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO)
            | UInt32(FUSE_CAP_PARALLEL_DIROPS | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE)
        unsafe conn.pointee.want |= conn.pointee.capable & wanted
        if context.fileSystem.readsNeedNoOpen, unsafe conn.pointee.capable & UInt32(FUSE_CAP_NO_OPEN_SUPPORT) != 0 {
            context.opensAreImplicit.store(true, ordering: .relaxed)
        }
        unsafe conn.pointee.max_write = maxRequestBytes
        // The kernel's read-ahead becomes the smaller of this and the mount's read_ahead_kb, whichever is set last.
        unsafe conn.pointee.max_readahead = context.maxReadAhead
        unsafe conn.pointee.max_background = 64
        unsafe conn.pointee.congestion_threshold = 48
    }

    static let lookup: @convention(c) (fuse_req_t?, fuse_ino_t, UnsafePointer<CChar>?) -> Void = { req, parent, name in
        guard let req = unsafe req, let name = unsafe name else { return }
        let request = unsafe FuseRequest(req, operation: "lookup")
        let copiedName = unsafe String(cString: name)
        let context = unsafe FuseContext.of(req)
        // A missing name is answered as a negative entry: the kernel remembers it for the metadata TTL, as it
        // does names that exist.
        let missing = { @Sendable (error: FSError) in
            context.logger.debug("\(error.message)", metadata: ["fuse.op": "lookup"])
            unsafe request.reply { unsafe FuseCalls.replyNegativeEntry($0, ttl: context.fileSystem.metadataTTL) }
        }
        // Answered on this thread when s3mount already knows (see FuseContext.answer).
        do throws(FSError) {
            let known = try context.fileSystem.lookupWithoutWaiting(parent: InodeNumber(parent), name: copiedName)
            context.metrics.metadata(hit: known != nil)
            if let entry = known {
                unsafe request.reply { unsafe FuseCalls.replyEntry($0, entry) }
                return
            }
        } catch where error.errno == ENOENT {
            context.metrics.metadata(hit: true)
            return missing(error)
        } catch {
            return context.replyError(request, error)
        }
        context.run(request) { fs throws(FSError) in
            let entry: EntryReply
            do throws(FSError) {
                entry = try await fs.lookup(parent: InodeNumber(parent), name: copiedName)
            } catch where error.errno == ENOENT {
                missing(error)
                return
            }
            unsafe request.reply { unsafe FuseCalls.replyEntry($0, entry) }
        }
    }

    static let forget: @convention(c) (fuse_req_t?, fuse_ino_t, UInt64) -> Void = { req, ino, count in
        guard let req = unsafe req else { return }
        unsafe FuseContext.of(req).fileSystem.forget(InodeNumber(ino), count: count)
        unsafe FuseCalls.replyNone(req)
    }

    static let forgetMulti: @convention(c) (fuse_req_t?, Int, UnsafeMutablePointer<fuse_forget_data>?) -> Void = {
        req, count, forgets in
        guard let req = unsafe req, let forgets = unsafe forgets else { return }
        let fileSystem = unsafe FuseContext.of(req).fileSystem
        for unsafe item in unsafe UnsafeBufferPointer(start: forgets, count: count) {
            fileSystem.forget(InodeNumber(item.ino), count: item.nlookup)
        }
        unsafe FuseCalls.replyNone(req)
    }

    static let getattr: @convention(c) (fuse_req_t?, fuse_ino_t, UnsafeMutablePointer<fuse_file_info>?) -> Void = {
        req, ino, _ in
        guard let req = unsafe req else { return }
        let request = unsafe FuseRequest(req, operation: "getattr")
        let context = unsafe FuseContext.of(req)
        unsafe context.answer(
            request,
            immediate: { fs throws(FSError) in
                let known = try fs.getattrWithoutWaiting(InodeNumber(ino))
                context.metrics.metadata(hit: known != nil)
                return known
            },
            reply: { unsafe FuseCalls.replyAttributes($0, $1, ttl: context.fileSystem.attributesTTL(InodeNumber(ino))) }
        ) { fs throws(FSError) in
            let attributes = try await fs.getattr(InodeNumber(ino))
            let ttl = fs.attributesTTL(InodeNumber(ino))
            unsafe request.reply { unsafe FuseCalls.replyAttributes($0, attributes, ttl: ttl) }
        }
    }

    static let statfs: @convention(c) (fuse_req_t?, fuse_ino_t) -> Void = { req, _ in
        guard let req = unsafe req else { return }
        unsafe FuseCalls.replyStatfs(req, FuseContext.of(req).fileSystem.statfs())
    }

    static let opendir: @convention(c) (fuse_req_t?, fuse_ino_t, UnsafeMutablePointer<fuse_file_info>?) -> Void = {
        req, ino, _ in
        guard let req = unsafe req else { return }
        let request = unsafe FuseRequest(req, operation: "opendir")
        unsafe FuseContext.of(req).run(request) { fs throws(FSError) in
            let handle = try await fs.opendir(InodeNumber(ino))
            unsafe request.reply { unsafe FuseCalls.replyOpendir($0, handle: handle) }
        }
    }

    typealias ReaddirCallback = @convention(c) (fuse_req_t?, fuse_ino_t, Int, off_t, UnsafeMutablePointer<fuse_file_info>?) -> Void

    static let readdir: ReaddirCallback = { req, _, size, offset, fi in
        guard let req = unsafe req, let fi = unsafe fi else { return }
        unsafe listDirectory(FuseRequest(req, operation: "readdir"), fi.pointee.fh, size, offset, plus: false)
    }

    static let readdirplus: ReaddirCallback = { req, _, size, offset, fi in
        guard let req = unsafe req, let fi = unsafe fi else { return }
        unsafe listDirectory(FuseRequest(req, operation: "readdirplus"), fi.pointee.fh, size, offset, plus: true)
    }

    private static func listDirectory(_ request: FuseRequest, _ handle: UInt64, _ size: Int, _ offset: off_t, plus: Bool) {
        let context = unsafe request.withRawForBuffers { unsafe FuseContext.of($0) }
        context.run(request) { fs throws(FSError) in
            let buffer = FuseDirectoryBuffer(request: request, size: size, plus: plus)
            var replier = buffer
            try await fs.readdir(handle: handle, offset: UInt64(offset), plus: plus, into: &replier)
            buffer.send()
        }
    }

    static let releasedir: @convention(c) (fuse_req_t?, fuse_ino_t, UnsafeMutablePointer<fuse_file_info>?) -> Void = {
        req, _, fi in
        guard let req = unsafe req, let fi = unsafe fi else { return }
        unsafe FuseContext.of(req).fileSystem.releasedir(handle: fi.pointee.fh)
        unsafe FuseCalls.replyError(req, errno: 0)
    }

    static let open: @convention(c) (fuse_req_t?, fuse_ino_t, UnsafeMutablePointer<fuse_file_info>?) -> Void = {
        req, ino, fi in
        guard let req = unsafe req, let fi = unsafe fi else { return }
        let request = unsafe FuseRequest(req, operation: "open")
        let flags = unsafe fi.pointee.flags
        let context = unsafe FuseContext.of(req)
        if context.opensAreImplicit.load(ordering: .relaxed) {
            // ENOSYS to an open is the kernel's sign that opens need no answer (FUSE's no_open): it takes this one
            // as a success and sends no other.
            return unsafe request.reply { unsafe FuseCalls.replyError($0, errno: ENOSYS) }
        }
        unsafe context.answer(
            request, immediate: { fs throws(FSError) in try fs.openWithoutWaiting(InodeNumber(ino), flags: flags) },
            reply: { unsafe FuseCalls.replyOpen($0, context.withPagesStored($1, inode: ino)) }
        ) { fs throws(FSError) in
            let reply = context.withPagesStored(try await fs.open(InodeNumber(ino), flags: flags), inode: ino)
            unsafe request.reply { unsafe FuseCalls.replyOpen($0, reply) }
        }
    }

    static let read: ReaddirCallback = { req, ino, size, offset, fi in
        guard let req = unsafe req, let fi = unsafe fi else { return }
        let request = unsafe FuseRequest(req, operation: "read")
        let handle = unsafe fi.pointee.fh
        let context = unsafe FuseContext.of(req)
        let pending: PendingRead
        do throws(FSError) {
            let start = if context.opensAreImplicit.load(ordering: .relaxed) {
                try context.fileSystem.startRead(
                    inode: InodeNumber(ino), offset: UInt64(offset), size: size, flags: unsafe fi.pointee.flags)
            } else {
                try context.fileSystem.startRead(handle: handle, offset: UInt64(offset), size: size)
            }
            switch start {
            case .ready(let data):
                // Every byte is in memory: answered on this thread (see FuseContext.answer).
                return unsafe request.reply { raw in unsafe data.withUnsafeBuffers { unsafe FuseCalls.replyBuffers(raw, $0) } }
            case .waiting(let rest):
                pending = rest
            }
        } catch {
            return context.replyError(request, error)
        }
        context.run(request) { _ throws(FSError) in
            let data = try await pending.finish()
            unsafe request.reply { raw in unsafe data.withUnsafeBuffers { unsafe FuseCalls.replyBuffers(raw, $0) } }
        }
    }

    static let release: @convention(c) (fuse_req_t?, fuse_ino_t, UnsafeMutablePointer<fuse_file_info>?) -> Void = {
        req, _, fi in
        guard let req = unsafe req, let fi = unsafe fi else { return }
        unsafe FuseContext.of(req).fileSystem.release(handle: fi.pointee.fh)
        unsafe FuseCalls.replyError(req, errno: 0)
    }
}
