// UploadBodyReader: one pass over an UploadBody, for one transfer or for hashing it.
//
// Design: every request attempt gets a reader of its own, so a retry starts again from the first byte. Bytes
// bodies are copied out of the array; a file body is read with pread from an fd opened for this reader and closed
// when it goes away, straight into the buffer curl hands over, so a 5 GiB part never sits in memory. A read
// failure (I/O error, a file shorter than the range) aborts the transfer; `failure` says why.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import ObjectStore

final class UploadBodyReader: CurlUploadSource {
    private enum Source {
        case bytes([UInt8])
        case file(descriptor: Int32, path: String, offset: UInt64)
    }

    private let source: Source
    /// The body's size in bytes.
    let length: UInt64
    private var position: UInt64 = 0
    /// Why the body could not be read; set when `read` returns nil.
    private(set) var failure: ClientError?

    /// Opens the body; a file that cannot be opened throws.
    init(_ body: UploadBody) throws(ClientError) {
        length = body.count
        switch body {
        case .bytes(let bytes):
            source = .bytes(bytes)
        case .file(let path, let offset, _):
            // SAFETY: the path is passed as a temporary NUL-terminated C string that open only reads.
            let descriptor = unsafe open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw Self.error("cannot open \(path): \(Self.describe(errno))") }
            source = .file(descriptor: descriptor, path: path, offset: offset)
        }
    }

    deinit {
        if case .file(let descriptor, _, _) = source { close(descriptor) }
    }

    /// Copies the next bytes into `buffer`: their count, 0 at the end of the body, nil on a read failure.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        let wanted = Int(min(UInt64(buffer.count), length - position))
        guard wanted > 0 else { return 0 }
        switch source {
        case .bytes(let bytes):
            let start = Int(position)
            // SAFETY: `wanted` bytes fit in `buffer` and lie inside `bytes` (position + wanted <= length).
            unsafe bytes.withUnsafeBytes { all in
                unsafe buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[start..<start + wanted]))
            }
            position += UInt64(wanted)
            return wanted
        case .file(let descriptor, let path, let offset):
            var count: Int
            repeat {
                // SAFETY: pread writes at most `wanted` bytes, which fit in `buffer`.
                count = unsafe pread(descriptor, buffer.baseAddress, wanted, off_t(offset + position))
            } while count < 0 && errno == EINTR
            if count < 0 {
                failure = Self.error("reading \(path): \(Self.describe(errno))")
                return nil
            }
            if count == 0 {
                failure = Self.error("\(path) ends at \(offset + position), before the \(length)-byte range from \(offset)")
                return nil
            }
            position += UInt64(count)
            return count
        }
    }

    /// Restarts the body at `offset` bytes into it.
    func seek(to offset: UInt64) -> Bool {
        guard offset <= length else { return false }
        position = offset
        return true
    }

    private static func error(_ detail: String) -> ClientError {
        ClientError(kind: .other, detail: "upload body: \(detail)")
    }

    private static func describe(_ code: Int32) -> String {
        // SAFETY: strerror returns a NUL-terminated string that stays valid until the next strerror call.
        unsafe String(cString: strerror(code))
    }
}
