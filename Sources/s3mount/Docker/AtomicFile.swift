// AtomicFile: replaces a file so that a crash or power loss leaves the old content or the new, whole: the bytes go
// to PATH.tmp, which is fsync'ed, renamed over PATH, and the directory fsync'ed so the rename itself is durable.
import Foundation
import Glibc

enum AtomicFile {
    static func write(_ data: Data, to path: String) throws(PluginError) {
        let temporary = path + ".tmp"
        let fd = unsafe open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("create \(temporary)") }
        let complete = writeAll(fd, [UInt8](data)) && fsync(fd) == 0
        let code = errno
        close(fd)
        guard complete else {
            unsafe unlink(temporary)
            throw PluginError("cannot write \(temporary): \(MountpointCheck.describe(code))")
        }
        guard unsafe rename(temporary, path) == 0 else {
            let error = failure("rename \(temporary) to \(path)")
            unsafe unlink(temporary)
            throw error
        }
        let directory = unsafe open((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            // SAFETY: write reads at most count - offset bytes from inside the buffer, valid for the call.
            let count = unsafe bytes.withUnsafeBytes { unsafe Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return false }
            offset += count
        }
        return true
    }

    private static func failure(_ operation: String) -> PluginError {
        PluginError("cannot \(operation): \(MountpointCheck.describe(errno))")
    }
}
