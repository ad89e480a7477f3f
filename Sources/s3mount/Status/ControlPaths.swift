// ControlPaths: where control sockets live and what they are called. A daemon run by root puts its socket in
// /run/s3mount, any other user's in $XDG_RUNTIME_DIR/s3mount (or /tmp/s3mount-UID without one); the directory is
// 0700, so only its owner (and root) can reach the sockets in it. A socket is named after a hash of its mountpoint
// (mountpoints can be longer than a socket path may be), and the daemon names its mountpoint in its answer.
import Foundation
import Glibc

enum ControlPaths {
    /// The directory the daemon of user `uid` uses.
    static func directory(uid: uid_t = getuid(), environment: [String: String] = ProcessInfo.processInfo.environment)
        -> String
    {
        if uid == 0 { return "/run/s3mount" }
        if let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") { return runtime + "/s3mount" }
        return "/tmp/s3mount-\(uid)"
    }

    /// The socket of the mount at `mountpoint` (an absolute path, symlinks resolved) inside `directory`.
    static func socket(for mountpoint: String, in directory: String) -> String {
        directory + "/" + name(for: mountpoint)
    }

    /// `mnt-<16 hex digits of FNV-1a 64 of the path>.sock`.
    static func name(for mountpoint: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in mountpoint.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "mnt-" + String(repeating: "0", count: 16 - hex.count) + hex + ".sock"
    }

    /// Every directory a client looks in: its own, and for root every user's; for other users also root's,
    /// so that asking about a mount one may not see gets "permission denied" rather than "no such mount".
    static func searchDirectories() -> [String] {
        var directories = [directory()]
        if getuid() == 0 {
            let users = (try? FileManager.default.contentsOfDirectory(atPath: "/run/user")) ?? []
            directories += users.sorted().map { "/run/user/\($0)/s3mount" }
            let tmp = (try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []
            directories += tmp.filter { $0.hasPrefix("s3mount-") && UInt32($0.dropFirst(8)) != nil }.sorted()
                .map { "/tmp/\($0)" }
        } else {
            directories.append("/run/s3mount")
        }
        return directories
    }

    /// Creates the directory 0700 if needed, and refuses one owned by someone else or open to others.
    static func prepare(_ directory: String) throws(SocketError) {
        if unsafe mkdir(directory, 0o700) != 0, errno != EEXIST { throw SocketError(operation: "create \(directory)", code: errno) }
        var info = stat()
        guard unsafe stat(directory, &info) == 0 else { throw SocketError(operation: "stat \(directory)", code: errno) }
        guard info.st_uid == getuid(), info.st_mode & 0o077 == 0 else {
            throw SocketError(operation: "use \(directory) (not owned by this user, or open to others)", code: EPERM)
        }
    }
}
