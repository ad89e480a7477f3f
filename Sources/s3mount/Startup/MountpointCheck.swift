import Foundation
import Glibc

/// The mount-time checks on MOUNTPOINT and /dev/fuse, each failing with what is wrong and how to fix it.
enum MountpointCheck {
    /// The absolute, symlink-free path to mount on. A directory with entries is refused unless `allowNonEmpty`:
    /// the mount would hide them, and libfuse3 no longer checks (it dropped fuse2's `nonempty` option).
    static func validate(_ path: String, allowNonEmpty: Bool) throws(MountFailure) -> String {
        var info = stat()
        if unsafe stat(path, &info) != 0 {
            let code = errno
            switch code {
            case ENOENT: throw MountFailure("mountpoint \(path) does not exist: create it with 'mkdir -p \(path)'")
            case ENOTCONN:
                throw MountFailure(
                    "mountpoint \(path) is a FUSE mount whose daemon has died: clean it up with 'fusermount3 -u \(path)'")
            default: throw MountFailure("cannot use mountpoint \(path): \(describe(code))")
            }
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw MountFailure("mountpoint \(path) is not a directory: give an empty directory")
        }
        let absolute = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        if let type = mountedFileSystemType(at: absolute) {
            throw MountFailure(
                "mountpoint \(absolute) is already a mount point (\(type)): unmount it first with 'fusermount3 -u \(absolute)' or choose another directory"
            )
        }
        if !allowNonEmpty, let entries = try? FileManager.default.contentsOfDirectory(atPath: absolute), let first = entries.min() {
            throw MountFailure(
                "mountpoint \(absolute) is not empty (\(entries.count == 1 ? "1 entry:" : "\(entries.count) entries, e.g.") '\(first)'): the mount would hide what is there; give an empty directory, or --nonempty (-o nonempty) to mount over them"
            )
        }
        return absolute
    }

    /// /dev/fuse must exist and be openable, or libfuse fails with a less helpful message later.
    static func checkFuseDevice() throws(MountFailure) {
        let fd = unsafe open("/dev/fuse", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            throw MountFailure(
                "cannot open /dev/fuse (\(describe(errno))): load the fuse module ('modprobe fuse'), or give the container the device (--device /dev/fuse --cap-add SYS_ADMIN)"
            )
        }
        close(fd)
    }

    /// The type of the file system mounted exactly at `path`, from /proc/self/mountinfo; nil when none is.
    static func mountedFileSystemType(at path: String) -> String? {
        guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 6, unescape(fields[4]) == path,
                let separator = fields.firstIndex(of: "-"), separator + 1 < fields.count
            else { continue }
            return String(fields[separator + 1])
        }
        return nil
    }

    /// The type of the file system that holds `path` (the mount whose mount point is its longest prefix); nil
    /// when the path does not exist.
    static func fileSystemType(containing path: String) -> String? {
        guard FileManager.default.fileExists(atPath: path),
            let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        else { return nil }
        let absolute = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        var best: (length: Int, type: String)?
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 6, let separator = fields.firstIndex(of: "-"), separator + 1 < fields.count else { continue }
            let mountPoint = unescape(fields[4])
            let inside = absolute == mountPoint || mountPoint == "/"
                || absolute.hasPrefix(mountPoint.hasSuffix("/") ? mountPoint : mountPoint + "/")
            if inside, mountPoint.count >= (best?.length ?? -1) { best = (mountPoint.count, String(fields[separator + 1])) }
        }
        return best?.type
    }

    /// The "MAJOR:MINOR" device of the mount at `path`, which names its /sys/class/bdi entry.
    static func mountDevice(at path: String) -> String? {
        guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        return table.split(separator: "\n").map { $0.split(separator: " ") }
            .last { $0.count > 4 && unescape($0[4]) == path }
            .map { String($0[2]) }
    }

    /// mountinfo escapes space, tab, newline and backslash as \ooo.
    private static func unescape(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        var bytes: [UInt8] = []
        var utf8 = Array(field.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3, let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func describe(_ code: Int32) -> String { unsafe String(cString: strerror(code)) }
}
