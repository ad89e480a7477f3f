// StagedFile: the local copy of one file being written or waiting for its upload.
//
// The bytes live in a staging file on local disk (StagingArea), written with pwrite and read back with pread, so a
// file of any size costs no memory. The state says what S3 is owed: `generation` counts changes, and the file is
// dirty while the last generation durable in S3 is older. `base` is the version the bytes replace, which the
// upload checks to detect a conflicting writer. A new file written strictly sequentially streams its complete
// parts to a multipart upload while it is still being written (`stream`); any write below what was already
// handed off ends the stream and the file is uploaded whole after close.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSystem
import ObjectStore
import Synchronization

final class StagedFile: Sendable {
    enum Base: Sendable, Hashable {
        /// No object existed: upload only if none appeared meanwhile (If-None-Match: *).
        case new
        /// The bytes are an edit of this version: another version in S3 at upload time is a conflict.
        case version(ETag)
        /// Replace whatever is there (the file was renamed onto this key).
        case replace

        var journalValue: String? {
            switch self {
            case .new: nil
            case .version(let etag): etag.value
            case .replace: "*"
            }
        }

        init(journalValue: String?) {
            switch journalValue {
            case nil: self = .new
            case "*": self = .replace
            case let etag?: self = .version(ETag(etag))
            }
        }
    }

    struct State {
        var key: String
        var inode: InodeNumber?
        var size: UInt64
        var mtime: Double
        var base: Base
        var generation: UInt64
        /// The last generation made durable on local disk with a journal record.
        var journalledGeneration: UInt64
        /// The last generation durable in S3 (0: none).
        var uploadedGeneration: UInt64
        /// Open handles that may write.
        var writers = 0
        /// Unlinked or replaced: nothing is uploaded; the staging file goes when the last handle closes.
        var removed = false
        /// A PutObject of the whole file is running: its object may land at any moment, even after the request is
        /// cancelled (the server may have all of it already), so an unlink or a rename waits for its answer before
        /// deleting the key (`Writeback.settlePut`).
        var putInFlight = false
        /// Every write so far continued where the file ended (streaming is possible).
        var appendOnly: Bool
        /// Bytes written since the last early write-back was started (see `write`).
        var unflushed: UInt64 = 0
        /// The object version the staged bytes were fetched from, while parts of it are unchanged.
        var copySource: CopySource?
        var stream: MultipartStream?
    }

    /// An existing object fetched into staging and which of its parts (by the upload's layout) changed since:
    /// the unchanged ones are uploaded by UploadPartCopy, server side, instead of being sent again.
    struct CopySource: Sendable {
        let key: String
        let etag: ETag
        let size: UInt64
        let layout: PartLayout
        var changedParts: Set<Int> = []

        /// Marks every part overlapping `range` as changed.
        mutating func change(_ range: Range<UInt64>) {
            guard !range.isEmpty else { return }
            for number in layout.part(containing: range.lowerBound)...layout.part(containing: range.upperBound - 1) {
                changedParts.insert(number)
            }
        }

        /// Whether part `number` of a file of `fileSize` bytes can be copied from the source as it is.
        func isUnchanged(_ number: Int, fileSize: UInt64) -> Bool {
            guard !changedParts.contains(number), let range = layout.range(of: number, fileSize: fileSize) else {
                return false
            }
            return range.upperBound <= size
        }
    }

    let id: UInt64
    let path: String
    let fd: Int32
    let state: Mutex<State>

    init(id: UInt64, path: String, fd: Int32, state: State) {
        self.id = id
        self.path = path
        self.fd = fd
        self.state = Mutex(state)
    }

    deinit {
        close(fd)
    }

    var key: String { state.withLock { $0.key } }
    var isDirty: Bool { state.withLock { $0.generation > $0.uploadedGeneration && !$0.removed } }

    // MARK: - Bytes

    /// Writes `bytes` at `offset`; the file grows as needed (a gap reads as zeros).
    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64, now: Double) throws(FSError) -> Int {
        guard unsafe FileIO.pwriteAll(fd, bytes, at: offset) else { throw Self.localError("write", key: key) }
        let done = bytes.count
        let flushFrom: UInt64? = state.withLock { state in
            if offset != state.size { state.appendOnly = false }
            state.copySource?.change(offset..<(offset + UInt64(done)))
            state.size = max(state.size, offset + UInt64(done))
            state.generation += 1
            state.mtime = now
            state.unflushed += UInt64(done)
            guard state.unflushed >= Self.earlyWritebackBytes else { return nil }
            state.unflushed = 0
            return offset + UInt64(done) > Self.earlyWritebackBytes ? offset + UInt64(done) - Self.earlyWritebackBytes : 0
        }
        // Start writing the staged bytes to disk now, without waiting: the fsync at close then has little left.
        if let flushFrom { _ = s3m_start_writeback(fd, off_t(flushFrom), off_t(Self.earlyWritebackBytes)) }
        return done
    }

    /// How much is written before its write-back to disk is started early.
    static let earlyWritebackBytes: UInt64 = 32 << 20

    /// Up to `count` bytes from `offset` (fewer at the end of the file).
    func read(at offset: UInt64, count: Int) throws(FSError) -> [UInt8] {
        let size = state.withLock { $0.size }
        guard offset < size else { return [] }
        let wanted = Int(min(UInt64(count), size - offset))
        var bytes = [UInt8](repeating: 0, count: wanted)
        let done = unsafe bytes.withUnsafeMutableBytes { unsafe FileIO.preadAll(fd, $0, at: offset) }
        guard done >= 0 else { throw Self.localError("read", key: key) }
        return done == wanted ? bytes : Array(bytes[0..<done])
    }

    func truncate(to size: UInt64, now: Double) throws(FSError) {
        guard ftruncate(fd, off_t(size)) == 0 else { throw Self.localError("truncate", key: key) }
        state.withLock { state in
            if size != state.size { state.appendOnly = state.appendOnly && size > state.size }
            state.copySource?.change(min(size, state.size)..<max(size, state.size))
            state.size = size
            state.generation += 1
            state.mtime = now
        }
    }

    /// fsync of the staging file: its bytes survive a crash or power loss.
    func syncToDisk() throws(FSError) {
        guard fsync(fd) == 0 else { throw Self.localError("fsync", key: key) }
    }

    /// The errno of a failed local file operation, as the staging disk reported it (ENOSPC, EIO, EDQUOT, …).
    static func localError(_ operation: String, key: String) -> FSError {
        let code = errno
        return FSError(
            errno: code, "\(operation) of the staged copy of \"\(key)\": \(unsafe String(cString: strerror(code)))",
            logLevel: code == ENOSPC || code == EDQUOT ? .warning : .error)
    }
}
