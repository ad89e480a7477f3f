// FileHandle: an open file and its read-ahead state.
//
// The object version is pinned at open: every read asks for exactly that ETag, so an object replaced while open
// fails with ESTALE instead of mixing bytes of two versions. The handle remembers the blocks it asked to be
// prefetched, so closing it can call off the GETs that nobody else is waiting for.
import Synchronization

final class FileHandle: Sendable {
    struct ReadAhead {
        var pattern: AccessPattern
        var window: PrefetchWindow
        /// Whether a read has come in on this handle yet (the first one is reported to DatasetReadAhead).
        var wasRead = false
        /// The furthest block already requested for read-ahead.
        var requestedThrough: UInt64?
        /// Weak: the cache owns blocks. A block the cache evicts must free its memory at once, not stay alive
        /// (unlisted, so neither reusable nor evictable) until this handle's reader passes it.
        var prefetched: [UInt64: Prefetched] = [:]
        var stride = RecordStride()
        /// Records fetched ahead of a strided reader, by offset (weak, like `prefetched`).
        var records: [UInt64: Prefetched] = [:]
        /// How many records to keep fetched ahead; doubles when the reader waits for one still on its way.
        var recordLead = FileHandle.initialRecordLead
        /// Where the furthest record requested for read-ahead starts.
        var recordsRequestedThrough: UInt64?
    }

    static let initialRecordLead = 4
    static let maxRecordLead = 64

    struct Prefetched {
        weak var block: BlockBuffer?
    }

    let inode: InodeNumber
    /// The directory and name the file was opened under.
    let directory: InodeNumber
    let name: String
    let object: ObjectVersion
    /// Whether the kernel's page cache keeps what this handle reads (not O_DIRECT), so blocks it reads through
    /// need not stay in the block cache.
    let pageCacheKeepsReads: Bool
    let readAhead: Mutex<ReadAhead>

    init(
        inode: InodeNumber, directory: InodeNumber, name: String, object: ObjectVersion, pageCacheKeepsReads: Bool,
        pattern: AccessPattern, window: PrefetchWindow
    ) {
        self.inode = inode
        self.directory = directory
        self.name = name
        self.object = object
        self.pageCacheKeepsReads = pageCacheKeepsReads
        self.readAhead = Mutex(ReadAhead(pattern: pattern, window: window))
    }

    /// A reader waits for `block`: if it was read ahead for this handle and has not arrived, the lead is too short.
    func readerWaits(on block: BlockBuffer) {
        readAhead.withLock { state in
            if block.key.recordLength > 0 {
                guard state.records[block.objectOffset]?.block === block else { return }
                state.recordLead = min(Self.maxRecordLead, state.recordLead * 2)
            } else if state.prefetched[block.key.index]?.block === block {
                state.window.starved(at: block.objectOffset)
            }
        }
    }

    /// The reader waited `duration` for a block: time the window weighs its rate by (PrefetchWindow).
    func readerWaited(_ duration: Duration) {
        readAhead.withLock { $0.window.waited(duration) }
    }

    /// Calls off read-ahead nobody is waiting for; at release.
    func cancelReadAhead() {
        let blocks = readAhead.withLock { state in
            defer {
                state.prefetched = [:]
                state.records = [:]
            }
            return (Array(state.prefetched.values) + Array(state.records.values)).compactMap(\.block)
        }
        for block in blocks { block.cancelIfUnwanted() }
    }
}
