// The libfuse callbacks that change the bucket: create, write, flush, fsync, setattr, mkdir, unlink, rmdir,
// rename, mknod, and the refusals (links, extended attributes, fallocate) with the errno docs/SEMANTICS.md names.
// Like FuseOperations, each copies its arguments and hands the work to the core; write alone is answered on the
// calling thread (it only copies into the staged file, and must not copy the buffer to outlive the callback).
import CFuse
import Glibc
import S3FSCore

enum FuseWriteOperations {
    static func install(into ops: inout fuse_lowlevel_ops) {
        unsafe ops.create = create
        unsafe ops.write = write
        unsafe ops.flush = flush
        unsafe ops.fsync = fsync
        unsafe ops.setattr = setattr
        unsafe ops.mkdir = mkdir
        unsafe ops.mknod = mknod
        unsafe ops.unlink = unlink
        unsafe ops.rmdir = rmdir
        unsafe ops.rename = rename
        unsafe ops.symlink = { req, _, _, _ in unsafe FuseWriteOperations.refuse(req, "symlink", EPERM) }
        unsafe ops.link = { req, _, _, _ in unsafe FuseWriteOperations.refuse(req, "link", EPERM) }
        unsafe ops.setxattr = { req, _, _, _, _, _ in unsafe FuseWriteOperations.refuse(req, "setxattr", ENOTSUP) }
        unsafe ops.removexattr = { req, _, _ in unsafe FuseWriteOperations.refuse(req, "removexattr", ENOTSUP) }
        unsafe ops.fallocate = { req, _, _, _, _, _ in unsafe FuseWriteOperations.refuse(req, "fallocate", EOPNOTSUPP) }
    }

    typealias NameCallback = @convention(c) (fuse_req_t?, fuse_ino_t, UnsafePointer<CChar>?) -> Void
    typealias FileCallback = @convention(c) (fuse_req_t?, fuse_ino_t, UnsafeMutablePointer<fuse_file_info>?) -> Void

    static let create: @convention(c) (fuse_req_t?, fuse_ino_t, UnsafePointer<CChar>?, mode_t, UnsafeMutablePointer<fuse_file_info>?) -> Void = {
        req, parent, name, _, fi in
        guard let req = unsafe req, let name = unsafe name, let fi = unsafe fi else { return }
        let request = unsafe FuseRequest(req, operation: "create")
        let copiedName = unsafe String(cString: name)
        let flags = unsafe fi.pointee.flags
        unsafe FuseContext.of(req).run(request) { fs throws(FSError) in
            let (entry, open) = try await fs.create(parent: InodeNumber(parent), name: copiedName, flags: flags)
            unsafe request.reply { unsafe FuseCalls.replyCreate($0, entry, handle: open.handle) }
        }
    }

    static let write: @convention(c) (fuse_req_t?, fuse_ino_t, UnsafePointer<CChar>?, Int, off_t, UnsafeMutablePointer<fuse_file_info>?) -> Void = {
        req, _, buffer, size, offset, fi in
        guard let req = unsafe req, let buffer = unsafe buffer, let fi = unsafe fi else { return }
        let context = unsafe FuseContext.of(req)
        // SAFETY: libfuse keeps `size` bytes at `buffer` valid for the duration of this callback.
        let bytes = unsafe UnsafeRawBufferPointer(start: buffer, count: size)
        do throws(FSError) {
            let written = try unsafe context.fileSystem.write(handle: fi.pointee.fh, offset: UInt64(offset), bytes: bytes)
            unsafe FuseCalls.replyWrite(req, count: written)
        } catch {
            unsafe context.replyError(FuseRequest(req, operation: "write"), error)
        }
    }

    static let flush: FileCallback = { req, _, fi in
        guard let req = unsafe req, let fi = unsafe fi else { return }
        let handle = unsafe fi.pointee.fh
        let request = unsafe FuseRequest(req, operation: "flush")
        let context = unsafe FuseContext.of(req)
        if context.opensAreImplicit.load(ordering: .relaxed) {
            // A mount that answers no open writes nothing: ENOSYS tells the kernel never to send a flush again.
            return unsafe request.reply { unsafe FuseCalls.replyError($0, errno: ENOSYS) }
        }
        guard context.fileSystem.flushNeedsWaiting(handle: handle) else {
            return unsafe request.reply { unsafe FuseCalls.replyError($0, errno: 0) }
        }
        context.run(request) { fs throws(FSError) in
            try await fs.flush(handle: handle)
            unsafe request.reply { unsafe FuseCalls.replyError($0, errno: 0) }
        }
    }

    static let fsync: @convention(c) (fuse_req_t?, fuse_ino_t, Int32, UnsafeMutablePointer<fuse_file_info>?) -> Void = {
        req, _, _, fi in
        guard let req = unsafe req, let fi = unsafe fi else { return }
        let handle = unsafe fi.pointee.fh
        let request = unsafe FuseRequest(req, operation: "fsync")
        unsafe FuseContext.of(req).run(request) { fs throws(FSError) in
            try await fs.fsync(handle: handle)
            unsafe request.reply { unsafe FuseCalls.replyError($0, errno: 0) }
        }
    }

    static let setattr: @convention(c) (fuse_req_t?, fuse_ino_t, UnsafeMutablePointer<stat>?, Int32, UnsafeMutablePointer<fuse_file_info>?) -> Void = {
        req, ino, attr, toSet, _ in
        guard let req = unsafe req, let attr = unsafe attr else { return }
        let changes = unsafe FuseCalls.attributeChanges(attr.pointee, toSet: toSet)
        let request = unsafe FuseRequest(req, operation: "setattr")
        unsafe FuseContext.of(req).run(request) { fs throws(FSError) in
            let attributes = try await fs.setattr(InodeNumber(ino), changes: changes)
            unsafe request.reply { unsafe FuseCalls.replyAttributes($0, attributes, ttl: fs.metadataTTL) }
        }
    }

    static let mkdir: @convention(c) (fuse_req_t?, fuse_ino_t, UnsafePointer<CChar>?, mode_t) -> Void = {
        req, parent, name, _ in
        guard let req = unsafe req, let name = unsafe name else { return }
        let request = unsafe FuseRequest(req, operation: "mkdir")
        let copiedName = unsafe String(cString: name)
        unsafe FuseContext.of(req).run(request) { fs throws(FSError) in
            let entry = try await fs.mkdir(parent: InodeNumber(parent), name: copiedName)
            unsafe request.reply { unsafe FuseCalls.replyEntry($0, entry) }
        }
    }

    /// A regular file made with mknod(2) is an empty new file; FIFOs, sockets and devices cannot be stored.
    static let mknod: @convention(c) (fuse_req_t?, fuse_ino_t, UnsafePointer<CChar>?, mode_t, dev_t) -> Void = {
        req, parent, name, mode, _ in
        guard let req = unsafe req, let name = unsafe name else { return }
        guard mode & S_IFMT == S_IFREG else { return unsafe refuse(req, "mknod", EPERM) }
        let request = unsafe FuseRequest(req, operation: "mknod")
        let copiedName = unsafe String(cString: name)
        unsafe FuseContext.of(req).run(request) { fs throws(FSError) in
            let (entry, open) = try await fs.create(parent: InodeNumber(parent), name: copiedName, flags: O_WRONLY)
            fs.release(handle: open.handle)
            unsafe request.reply { unsafe FuseCalls.replyEntry($0, entry) }
        }
    }

    static let unlink: NameCallback = { req, parent, name in
        unsafe removal(req, parent, name, "unlink") { fs, parent, name throws(FSError) in
            try await fs.unlink(parent: parent, name: name)
        }
    }

    static let rmdir: NameCallback = { req, parent, name in
        unsafe removal(req, parent, name, "rmdir") { fs, parent, name throws(FSError) in
            try await fs.rmdir(parent: parent, name: name)
        }
    }

    private static func removal(
        _ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?, _ operation: StaticString,
        _ body: @escaping @Sendable (FileSystem, InodeNumber, String) async throws(FSError) -> Void
    ) {
        guard let req = unsafe req, let name = unsafe name else { return }
        let request = unsafe FuseRequest(req, operation: operation)
        let copiedName = unsafe String(cString: name)
        unsafe FuseContext.of(req).run(request) { fs throws(FSError) in
            try await body(fs, InodeNumber(parent), copiedName)
            unsafe request.reply { unsafe FuseCalls.replyError($0, errno: 0) }
        }
    }

    static let rename: @convention(c) (fuse_req_t?, fuse_ino_t, UnsafePointer<CChar>?, fuse_ino_t, UnsafePointer<CChar>?, UInt32) -> Void = {
        req, parent, name, newParent, newName, flags in
        guard let req = unsafe req, let name = unsafe name, let newName = unsafe newName else { return }
        let request = unsafe FuseRequest(req, operation: "rename")
        let from = unsafe String(cString: name)
        let to = unsafe String(cString: newName)
        unsafe FuseContext.of(req).run(request) { fs throws(FSError) in
            try await fs.rename(
                parent: InodeNumber(parent), name: from, newParent: InodeNumber(newParent), newName: to, flags: flags)
            unsafe request.reply { unsafe FuseCalls.replyError($0, errno: 0) }
        }
    }

    fileprivate static func refuse(_ req: fuse_req_t?, _ operation: String, _ code: Int32) {
        guard let req = unsafe req else { return }
        let context = unsafe FuseContext.of(req)
        unsafe context.replyError(
            FuseRequest(req, operation: "unsupported"), context.fileSystem.refuseUnsupported(operation, errno: code))
    }
}
