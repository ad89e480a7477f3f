// ErrnoName: errno values by their C names (ENOENT, EIO, …), the form operators search logs and alerts for.
import Glibc

public enum ErrnoName {
    private static let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", EIO: "EIO", EBADF: "EBADF", ENOMEM: "ENOMEM", EACCES: "EACCES",
        EEXIST: "EEXIST", EXDEV: "EXDEV", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", EINVAL: "EINVAL", EFBIG: "EFBIG",
        ENOSPC: "ENOSPC", EROFS: "EROFS", ENAMETOOLONG: "ENAMETOOLONG", ENOSYS: "ENOSYS", ENOTEMPTY: "ENOTEMPTY",
        ENOTSUP: "ENOTSUP", ESTALE: "ESTALE", EDQUOT: "EDQUOT", ECANCELED: "ECANCELED", EAGAIN: "EAGAIN",
        EINTR: "EINTR", ENODATA: "ENODATA",
    ]

    /// The C name of `code`, or "errnoN" for one not listed.
    public static func of(_ code: Int32) -> String { names[code] ?? "errno\(code)" }
}
