// FileIO: the loops every local file of s3mount goes through — writing or reading a whole buffer at an offset
// (EINTR and short transfers retried), making a directory path, listing a directory — for the staging files, the
// journal and the cache tier's block files alike.
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

    /// pread into all of `buffer` from `offset`, retried after EINTR and short reads: the bytes read (fewer only at
    /// the end of the file), or -1 (errno set) on failure.
    static func preadAll(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) -> Int {
        var done = 0
        while done < buffer.count {
            // SAFETY: done < buffer.count, so pread writes only inside `buffer`.
            let count = unsafe pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if count < 0 && errno == EINTR { continue }
            if count < 0 { return -1 }
            if count == 0 { break }
            done += count
        }
        return done
    }

    /// mkdir -p (mode 0700 for what it creates); false (errno set) on failure.
    static func makeDirectories(_ path: String) -> Bool {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if unsafe mkdir(current, 0o700) != 0 && errno != EEXIST { return false }
        }
        return true
    }

    /// The names in directory `path` (without "." and ".."); none when it cannot be opened.
    static func names(in path: String) -> [String] {
        guard let directory = unsafe opendir(path) else { return [] }
        defer { unsafe closedir(directory) }
        var names: [String] = []
        // SAFETY: each entry is read before the next readdir, while the directory is open; d_name is NUL-terminated.
        while let entry = unsafe readdir(directory) {
            let name = unsafe withUnsafeBytes(of: entry.pointee.d_name) { raw in
                unsafe String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
