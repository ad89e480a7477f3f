import CFuse
import S3FSCore

/// A readdir reply buffer of the size the kernel asked for, filled with fuse_add_direntry(_plus).
@safe final class FuseDirectoryBuffer: DirectoryReplier {
    private let request: FuseRequest
    private let buffer: UnsafeMutableRawBufferPointer
    private let plus: Bool
    private(set) var used = 0

    init(request: FuseRequest, size: Int, plus: Bool) {
        self.request = request
        unsafe buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
        self.plus = plus
    }

    func add(_ entry: DirectoryEntry) -> Bool {
        let needed = unsafe request.withRawForBuffers {
            unsafe FuseCalls.addDirectoryEntry($0, buffer, used: used, entry: entry, plus: plus)
        }
        guard unsafe needed <= buffer.count - used else { return false }
        used += needed
        return true
    }

    /// Sends the entries added so far.
    func send() {
        unsafe request.reply { raw in unsafe FuseCalls.replyBuffer(raw, UnsafeRawBufferPointer(rebasing: buffer[..<used])) }
    }

    deinit { unsafe buffer.deallocate() }
}
