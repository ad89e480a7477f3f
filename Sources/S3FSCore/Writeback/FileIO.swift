// FileIO: the one loop that writes a whole buffer at an offset, for staging files and the journal.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum FileIO {
    /// pwrite of all of `bytes` at `offset`, retried after EINTR and short writes; false (errno set) on failure.
    static func pwriteAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: UInt64) -> Bool {
        var done = 0
        while done < bytes.count {
            // SAFETY: done < bytes.count, so pwrite reads only bytes inside `bytes`.
            let written = unsafe pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            done += written
        }
        return true
    }

    static func pwriteAll(_ fd: Int32, _ bytes: [UInt8], at offset: UInt64) -> Bool {
        unsafe bytes.withUnsafeBytes { unsafe pwriteAll(fd, $0, at: offset) }
    }
}
