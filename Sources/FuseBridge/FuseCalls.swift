// The funnel to libfuse: the only file that calls fuse_* functions. Everything that converts core values into
// libfuse's C structs (struct stat, fuse_entry_param, struct statvfs) lives here too, next to the calls that need
// them.
import CFuse
import CSystem
import Glibc
import S3FSCore

enum FuseCalls {
    // MARK: Replies

    static func replyError(_ req: fuse_req_t, errno: Int32) {
        _ = unsafe fuse_reply_err(req, errno)
    }

    static func replyNone(_ req: fuse_req_t) {
        unsafe fuse_reply_none(req)
    }

    static func replyEntry(_ req: fuse_req_t, _ entry: EntryReply) {
        var param = entryParam(entry)
        _ = unsafe fuse_reply_entry(req, &param)
    }

    /// "No such name", cached by the kernel as a negative entry for `ttl` seconds (ENOENT when `ttl` is 0).
    static func replyNegativeEntry(_ req: fuse_req_t, ttl: Double) {
        var param = fuse_entry_param()
        param.ino = 0
        param.entry_timeout = ttl
        _ = unsafe fuse_reply_entry(req, &param)
    }

    static func replyAttributes(_ req: fuse_req_t, _ attributes: FileAttributes, ttl: Double) {
        var st = stat(attributes)
        _ = unsafe fuse_reply_attr(req, &st, ttl)
    }

    static func replyCreate(_ req: fuse_req_t, _ entry: EntryReply, handle: UInt64) {
        var param = entryParam(entry)
        var info = fuse_file_info()
        info.fh = handle
        _ = unsafe fuse_reply_create(req, &param, &info)
    }

    static func replyWrite(_ req: fuse_req_t, count: Int) {
        _ = unsafe fuse_reply_write(req, count)
    }

    static func replyOpendir(_ req: fuse_req_t, handle: UInt64) {
        var info = fuse_file_info()
        info.fh = handle
        _ = unsafe fuse_reply_open(req, &info)
    }

    /// A file's open: a handle that needs no flush is opened FOPEN_NOFLUSH, so closing it costs no round trip.
    static func replyOpen(_ req: fuse_req_t, _ reply: OpenReply) {
        var info = fuse_file_info()
        info.fh = reply.handle
        info.keep_cache = reply.keepCache ? 1 : 0
        info.noflush = reply.needsFlush ? 0 : 1
        _ = unsafe fuse_reply_open(req, &info)
    }

    static func replyBuffer(_ req: fuse_req_t, _ bytes: UnsafeRawBufferPointer) {
        // SAFETY: fuse_reply_buf copies the bytes into the reply before it returns.
        _ = unsafe fuse_reply_buf(req, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
    }

    /// Replies with several buffers in one writev, so cached blocks are served without being copied together.
    static func replyBuffers(_ req: fuse_req_t, _ buffers: [UnsafeRawBufferPointer]) {
        // SAFETY: fuse_reply_iov writes the buffers to the device before it returns; iovec only borrows them.
        let vectors = unsafe buffers.map { unsafe iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count) }
        _ = unsafe vectors.withUnsafeBufferPointer { unsafe fuse_reply_iov(req, $0.baseAddress, Int32($0.count)) }
    }

    static func replyStatfs(_ req: fuse_req_t, _ stats: FileSystemStats) {
        var st = statvfs()
        st.f_bsize = UInt(stats.blockSize)
        st.f_frsize = UInt(stats.blockSize)
        st.f_blocks = UInt(stats.totalBlocks)
        st.f_bfree = UInt(stats.freeBlocks)
        st.f_bavail = UInt(stats.freeBlocks)
        st.f_files = UInt(stats.totalInodes)
        st.f_ffree = UInt(stats.freeInodes)
        st.f_favail = UInt(stats.freeInodes)
        st.f_namemax = UInt(stats.maxNameLength)
        _ = unsafe fuse_reply_statfs(req, &st)
    }

    // MARK: Directory buffers

    /// Appends one entry to `buffer` at `used`; returns the bytes it takes, which may exceed the space left, in
    /// which case nothing was written.
    static func addDirectoryEntry(
        _ req: fuse_req_t, _ buffer: UnsafeMutableRawBufferPointer, used: Int, entry: DirectoryEntry, plus: Bool
    ) -> Int {
        let space = buffer.count - used
        // SAFETY: fuse_add_direntry(_plus) writes at most `space` bytes from `used` on, and nothing when the entry
        // does not fit; `name` lives for the duration of the call.
        let start = unsafe buffer.baseAddress.map { unsafe $0.advanced(by: used).assumingMemoryBound(to: CChar.self) }
        return unsafe entry.name.withCString { name in
            if plus {
                var param = entryParam(EntryReply(attributes: entry.attributes, ttl: entry.ttl))
                if entry.isDotEntry { param.ino = 0 }
                return unsafe fuse_add_direntry_plus(req, start, space, name, &param, off_t(entry.nextOffset))
            }
            var st = stat(entry.attributes)
            return unsafe fuse_add_direntry(req, start, space, name, &st, off_t(entry.nextOffset))
        }
    }

    // MARK: Conversions

    /// The changes a setattr asks for (FUSE_SET_ATTR_* bits of `toSet`).
    static func attributeChanges(_ attr: Glibc.stat, toSet: Int32) -> AttributeChanges {
        var changes = AttributeChanges()
        if toSet & FUSE_SET_ATTR_SIZE != 0 { changes.size = UInt64(max(0, attr.st_size)) }
        if toSet & FUSE_SET_ATTR_MODE != 0 { changes.mode = UInt32(attr.st_mode) }
        if toSet & FUSE_SET_ATTR_UID != 0 { changes.uid = attr.st_uid }
        if toSet & FUSE_SET_ATTR_GID != 0 { changes.gid = attr.st_gid }
        if toSet & FUSE_SET_ATTR_MTIME_NOW != 0 {
            var now = timespec()
            unsafe clock_gettime(CLOCK_REALTIME, &now)
            changes.mtime = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
        } else if toSet & FUSE_SET_ATTR_MTIME != 0 {
            changes.mtime = Double(attr.st_mtim.tv_sec) + Double(attr.st_mtim.tv_nsec) / 1e9
        }
        return changes
    }

    static func entryParam(_ entry: EntryReply) -> fuse_entry_param {
        var param = fuse_entry_param()
        param.ino = fuse_ino_t(entry.attributes.inode.rawValue)
        param.generation = 1
        param.attr = stat(entry.attributes)
        param.attr_timeout = entry.ttl
        param.entry_timeout = entry.ttl
        return param
    }

    static func stat(_ a: FileAttributes) -> Glibc.stat {
        var st = Glibc.stat()
        st.st_ino = ino_t(a.inode.rawValue)
        st.st_mode = (a.kind == .directory ? S_IFDIR : S_IFREG) | mode_t(a.permissions & 0o7777)
        st.st_nlink = nlink_t(a.linkCount)
        st.st_uid = a.uid
        st.st_gid = a.gid
        st.st_size = off_t(a.size)
        st.st_blocks = blkcnt_t(a.blocks)
        st.st_blksize = 1 << 20
        let time = timespec(tv_sec: Int(a.mtime.rounded(.down)), tv_nsec: Int((a.mtime - a.mtime.rounded(.down)) * 1e9))
        st.st_atim = time
        st.st_mtim = time
        st.st_ctim = time
        return st
    }
}

// MARK: Session

extension FuseCalls {
    /// fuse_session_new with argv ["s3mount", "-o", options].
    static func newSession(
        options: String, ops: inout fuse_lowlevel_ops, userdata: UnsafeMutableRawPointer
    ) -> OpaquePointer? {
        let words: [String] = ["s3mount", "-o", options]
        var argv: [UnsafeMutablePointer<CChar>?] = unsafe words.map { word in unsafe strdup(word) }
        defer { for unsafe arg in unsafe argv { unsafe free(arg) } }
        return unsafe argv.withUnsafeMutableBufferPointer { buffer in
            var args = unsafe s3m_fuse_args_init(Int32(buffer.count), buffer.baseAddress)
            defer { unsafe fuse_opt_free_args(&args) }
            return unsafe fuse_session_new(&args, &ops, MemoryLayout<fuse_lowlevel_ops>.size, userdata)
        }
    }

    /// fuse_session_mount; once mounted, the INIT reply to come is armed to carry FUSE_PARALLEL_DIROPS (asked for in
    /// FuseOperations.initialize, but left out of the reply by libfuse before 3.16; CSystem's fuse_init_flags.c).
    static func mount(_ session: OpaquePointer, at mountpoint: String) -> Bool {
        guard unsafe fuse_session_mount(session, mountpoint) == 0 else { return false }
        s3m_fuse_arm_parallel_dirops(unsafe fuse_session_fd(session))
        return true
    }

    /// Makes the kernel drop what it caches of a name or an inode (FUSE notify). The kernel answers ENOENT for
    /// what it no longer holds, which changes nothing, so the result is not looked at.
    static func invalidate(_ session: OpaquePointer, _ change: KernelInvalidation) {
        switch change {
        case .entry(let parent, let name):
            // libfuse sends the name with its terminating NUL.
            let terminated = name + [0]
            _ = unsafe terminated.withUnsafeBufferPointer { bytes in
                unsafe bytes.withMemoryRebound(to: CChar.self) { chars in
                    unsafe fuse_lowlevel_notify_inval_entry(
                        session, fuse_ino_t(parent.rawValue), chars.baseAddress, name.count)
                }
            }
        case .inode(let number, let pages):
            _ = unsafe fuse_lowlevel_notify_inval_inode(session, fuse_ino_t(number.rawValue), pages ? 0 : -1, 0)
        }
    }

    /// Puts `data` in the kernel's page cache of `inode` from offset 0 (FUSE notify_store, one write per piece);
    /// false if the kernel did not take all of it.
    static func store(_ session: OpaquePointer, inode: fuse_ino_t, _ data: ReadData) -> Bool {
        unsafe data.withUnsafeBuffers { buffers in
            var offset = 0
            for unsafe buffer in unsafe buffers {
                // SAFETY: libfuse writes the bytes to the device before it returns; the buffer is only borrowed.
                guard unsafe s3m_fuse_notify_store(session, inode, off_t(offset), buffer.baseAddress, buffer.count) == 0
                else { return false }
                offset += buffer.count
            }
            return true
        }
    }

    static func loop(_ session: OpaquePointer, maxThreads: UInt32) -> Int32 {
        guard let config = unsafe fuse_loop_cfg_create() else { return -1 }
        defer { unsafe fuse_loop_cfg_destroy(config) }
        unsafe fuse_loop_cfg_set_max_threads(config, maxThreads)
        // Every session thread stays once started: with fewer kept idle, libfuse ends a thread whenever the
        // requests pause for an instant and starts another at the next burst — a clone and an exit every few
        // requests when many small files are opened (an epoch served from the page cache started ~2,000 threads
        // for 6,000 files).
        unsafe fuse_loop_cfg_set_idle_threads(config, maxThreads)
        return unsafe s3m_fuse_session_loop_mt(session, config)
    }

    static func exit(_ session: OpaquePointer) {
        unsafe fuse_session_exit(session)
    }

    static func unmount(_ session: OpaquePointer) {
        unsafe fuse_session_unmount(session)
    }
}
