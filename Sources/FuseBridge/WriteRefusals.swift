// Operations that would change the bucket. The write path is not built yet, so each is answered with the core's
// refusal (EROFS) rather than libfuse's default ENOSYS, which tools misread as "try another way".
import CFuse
import Glibc
import S3FSCore

enum WriteRefusals {
    static func install(into ops: inout fuse_lowlevel_ops) {
        unsafe ops.setattr = { req, _, _, _, _ in unsafe WriteRefusals.refuse(req, "setattr") }
        unsafe ops.mknod = { req, _, _, _, _ in unsafe WriteRefusals.refuse(req, "mknod") }
        unsafe ops.mkdir = { req, _, _, _ in unsafe WriteRefusals.refuse(req, "mkdir") }
        unsafe ops.unlink = { req, _, _ in unsafe WriteRefusals.refuse(req, "unlink") }
        unsafe ops.rmdir = { req, _, _ in unsafe WriteRefusals.refuse(req, "rmdir") }
        unsafe ops.symlink = { req, _, _, _ in unsafe WriteRefusals.refuse(req, "symlink") }
        unsafe ops.rename = { req, _, _, _, _, _ in unsafe WriteRefusals.refuse(req, "rename") }
        unsafe ops.link = { req, _, _, _ in unsafe WriteRefusals.refuse(req, "link") }
        unsafe ops.write = { req, _, _, _, _, _ in unsafe WriteRefusals.refuse(req, "write") }
        unsafe ops.create = { req, _, _, _, _ in unsafe WriteRefusals.refuse(req, "create") }
        unsafe ops.setxattr = { req, _, _, _, _, _ in unsafe WriteRefusals.refuse(req, "setxattr") }
        unsafe ops.removexattr = { req, _, _ in unsafe WriteRefusals.refuse(req, "removexattr") }
        unsafe ops.fallocate = { req, _, _, _, _, _ in unsafe WriteRefusals.refuse(req, "fallocate") }
    }

    fileprivate static func refuse(_ req: fuse_req_t?, _ operation: String) {
        guard let req = unsafe req else { return }
        let context = unsafe FuseContext.of(req)
        unsafe context.replyError(FuseRequest(req, operation: "write"), context.fileSystem.refuseWrite(operation))
    }
}
