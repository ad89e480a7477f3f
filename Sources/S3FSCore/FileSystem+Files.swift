// File operations: open, read, release.
//
// A sequential reader is served from aligned blocks (BlockFetcher, shared by every handle through the block
// cache) and read ahead of by a window that grows while it is starved; a random reader gets exactly the bytes it
// asks for, in one ranged GET, with no read-ahead (unless the blocks are already cached); a reader of records at
// a fixed stride with gaps (RecordStride) gets the next records fetched ahead, each its own GET, and never the
// gaps between them. Every GET carries the ETag pinned at open (If-Match).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSystem
import ObjectStore

extension FileSystem {
    public func open(_ number: InodeNumber, flags: Int32) async throws(FSError) -> OpenReply {
        if let reply = try openWithoutWaiting(number, flags: flags) { return reply }
        guard let inode = inodes.inode(number) else { throw .notFound("open \(number)") }
        if isWriteOpen(inode, flags: flags) { return try await openStaged(inode, flags: flags) }
        if inode.freshUntil > .now, let block = bytesOnTheirWay(inode, flags: flags) {
            // The file is being prefetched: the open waits for it (as its first read would) to hand it over.
            _ = try? await block.waitFor(block.length)
            return try openObject(inode, flags: flags, withPages: true)
        }
        return try openObject(try await refreshFile(inode), flags: flags)
    }

    /// The open, when it needs nothing from S3 or the disk (a read-only open of a file whose metadata is fresh);
    /// nil when `open` has to be awaited.
    public func openWithoutWaiting(_ number: InodeNumber, flags: Int32) throws(FSError) -> OpenReply? {
        guard let inode = inodes.inode(number) else { throw .notFound("open \(number)") }
        guard inode.kind == .file else { throw FSError(errno: EISDIR, "open \(inode.key): is a directory") }
        guard !isWriteOpen(inode, flags: flags), inode.freshUntil > .now, inode.etag != nil,
            bytesOnTheirWay(inode, flags: flags) == nil
        else { return nil }
        return try openObject(inode, flags: flags, withPages: true)
    }

    /// The block of a small file that an open would hand the kernel (see wholeFileInMemory) but whose bytes are
    /// still on their way (a prefetch under way): the open is worth awaiting.
    private func bytesOnTheirWay(_ inode: Inode, flags: Int32) -> BlockBuffer? {
        guard let etag = inode.etag, Self.fitsAnOpen(size: inode.size, direct: flags & s3m_o_direct() != 0),
            inode.kernelHoldsNoPages,
            let block = fetcher.listedBlock(0, of: ObjectVersion(key: inode.key, etag: etag, size: inode.size)),
            !block.isComplete, !block.isFailed
        else { return nil }
        return block
    }

    private func isWriteOpen(_ inode: Inode, flags: Int32) -> Bool {
        flags & O_ACCMODE != O_RDONLY || flags & O_TRUNC != 0 || isStaged(inode)
    }

    /// `withPages`: the open may hand the kernel the file's pages (OpenReply.pageData).
    private func openObject(_ inode: Inode, flags: Int32, withPages: Bool = false) throws(FSError) -> OpenReply {
        guard let etag = inode.etag else { throw FSError(errno: EIO, "open \(inode.key): the server sent no ETag") }
        let object = ObjectVersion(key: inode.key, etag: etag, size: inode.size)
        let file = FileHandle(
            inode: inode.number, directory: inode.parent, name: inode.name, object: object,
            pageCacheKeepsReads: flags & s3m_o_direct() == 0, pattern: newPattern(), window: newWindow())
        let note = inodes.noteOpen(inode.number, etag: etag)
        var reply = OpenReply(handle: files.insert(file), keepCache: note.keepsPages, needsFlush: false)
        if withPages, note.kernelHeldNoPages, let pages = wholeFileInMemory(file) {
            reply.pageData = pages
            reply.keepCache = true
        }
        return reply
    }

    /// The kernel took an open's pageData: its blocks leave the cache as a read's do (see `delivered`).
    public func pagesHandedOver(_ data: ReadData, handle: UInt64) {
        guard let file = files.get(handle) else { return }
        _ = delivered(data, by: file)
    }

    /// The largest file whose bytes an open hands the kernel: one FUSE read's worth (the kernel's largest).
    static let maxPageDataAtOpen: UInt64 = 1 << 20

    /// Whether a file of `size` bytes may go to the kernel with its open (not to an O_DIRECT handle, which bypasses
    /// the page cache).
    private static func fitsAnOpen(size: UInt64, direct: Bool) -> Bool {
        size > 0 && size <= maxPageDataAtOpen && !direct
    }

    /// The whole of a small file, if every byte of it is already in memory (prefetched by a dataset walk, a
    /// manifest or an earlier read-ahead), counted as its handle's first read: given to the kernel at open, the
    /// read that follows costs no round trip, and the kernel, having sent no read, does not mark the file's access
    /// time stale (which costs a getattr at the next stat: every Python open on a writable mount). Nothing is
    /// fetched here: a file not in memory is read as before. Its blocks stay cached, marked read (the first to be
    /// evicted) until the bridge reports the kernel took them (`pagesHandedOver`): should it not, the reads that
    /// follow still find them.
    private func wholeFileInMemory(_ file: FileHandle) -> ReadData? {
        let size = file.object.size
        guard Self.fitsAnOpen(size: size, direct: !file.pageCacheKeepsReads),
            let blocks = cachedBlocks(0..<size, of: file), let data = inMemory(blocks)
        else { return nil }
        file.readAhead.withLock { $0.wasRead = true }
        noteFirstRead(of: file)
        readStats.answeredFromMemory(bytes: data.count)
        return data
    }

    /// A read on a mount that answers no open (`readsNeedNoOpen`): served through the inode's implicit handle
    /// (OpenlessHandles), made at its first read the way `open` would: from the version the inode holds while its
    /// metadata is fresh, else from S3's answer now.
    public func startRead(inode number: InodeNumber, offset: UInt64, size: Int, flags: Int32) throws(FSError) -> ReadStart {
        let direct = flags & s3m_o_direct() != 0
        if let handle = openless.existing(of: number, direct: direct) {
            return try startRead(handle: handle, offset: offset, size: size)
        }
        guard let inode = inodes.inode(number) else { throw .notFound("read \(number)") }
        guard inode.kind == .file else { throw FSError(errno: EISDIR, "read \(inode.key): is a directory") }
        if inode.etag != nil, inode.freshUntil > .now {
            return try startRead(handle: implicitHandle(of: inode, flags: flags), offset: offset, size: size)
        }
        return .waiting(PendingRead { [self] () throws(FSError) in
            try await read(handle: implicitHandle(of: refreshFile(inode), flags: flags), offset: offset, size: size)
        })
    }

    /// The handle every read of `version`'s inode shares, opened from `version` by the first.
    private func implicitHandle(of version: Inode, flags: Int32) throws(FSError) -> UInt64 {
        try openless.handle(of: version.number, direct: flags & s3m_o_direct() != 0) { () throws(FSError) in
            try openObject(version, flags: flags).handle
        }
    }

    /// Whether the kernel may be told that opens need no answer: on a read-only mount an open has nothing to
    /// prepare that the first read cannot (a writable one stages files at open).
    public var readsNeedNoOpen: Bool { config.readOnly }

    /// Up to `size` bytes from `offset`; fewer only at the end of the file.
    public func read(handle: UInt64, offset: UInt64, size: Int) async throws(FSError) -> ReadData {
        switch try startRead(handle: handle, offset: offset, size: size, onBlockingThread: false) {
        case .ready(let data): data
        case .waiting(let pending): try await pending.finish()
        }
    }

    /// Starts a read: its bytes if every one is already in memory or in the cache tier (answered without a task
    /// switch), else what is left to wait for. Read-ahead and prefetch are started either way. Called on a thread
    /// that may wait for the local disk (a FUSE thread, never the cooperative pool): a block the cache tier holds is
    /// read here, so a read served from local disk costs no hand-off between threads.
    public func startRead(handle: UInt64, offset: UInt64, size: Int) throws(FSError) -> ReadStart {
        try startRead(handle: handle, offset: offset, size: size, onBlockingThread: true)
    }

    private func startRead(
        handle: UInt64, offset: UInt64, size: Int, onBlockingThread: Bool
    ) throws(FSError) -> ReadStart {
        let start = try startReadUncounted(
            handle: handle, offset: offset, size: size, onBlockingThread: onBlockingThread)
        switch start {
        case .ready(let data):
            readStats.answeredFromMemory(bytes: data.count)
            return start
        case .waiting(let pending):
            let stats = readStats
            let source: ReadStats.Source = StagedHandle.isStaged(handle) ? .staging : .s3
            return .waiting(PendingRead { () throws(FSError) in
                let began = ContinuousClock.now
                var bytes = 0
                defer { stats.waited(for: .now - began, bytes: bytes, from: source) }
                let data = try await pending.finish()
                bytes = data.count
                return data
            })
        }
    }

    private func startReadUncounted(
        handle: UInt64, offset: UInt64, size: Int, onBlockingThread: Bool
    ) throws(FSError) -> ReadStart {
        if let staged = stagedHandle(handle) {
            return .waiting(PendingRead { [self] () throws(FSError) in try readStaged(staged, offset: offset, size: size) })
        }
        guard let file = files.get(handle) else { throw .badHandle(handle) }
        guard offset < file.object.size, size > 0 else { return .ready(ReadData(pieces: [])) }
        let range = offset..<min(file.object.size, offset + UInt64(size))
        let (mode, stride, isFirstRead) = file.readAhead.withLock { state in
            defer { state.wasRead = true }
            let length = UInt64(range.count)
            return (
                state.pattern.observe(offset: offset, size: length), state.stride.observe(offset: offset, length: length),
                !state.wasRead
            )
        }
        if isFirstRead { noteFirstRead(of: file) }
        let recordsAhead = stride.flatMap { $0.hasGaps ? $0 : nil }
        if let recordsAhead { readRecordsAhead(from: range.lowerBound, recordsAhead, of: file) }
        if mode == .sequential, recordsAhead == nil {
            let demands = demandBlocks(range, of: file, loadingTierHere: onBlockingThread)
            readAhead(after: range.upperBound, of: file)
            if let demands, let data = arrived(demands, of: file) { return .ready(data) }
            return .waiting(PendingRead { [self] () throws(FSError) in
                try await markingStale(file) { () throws(FSError) in
                    do throws(FSError) {
                        let had = if let demands { demands } else { await demandBlocksWaiting(range, of: file) }
                        return delivered(try await wait(for: had, of: file), by: file)
                    } catch where error.errno == ECANCELED {
                        // Read-ahead was called off (its handle closed) just as this reader came to need it.
                        return delivered(try await wait(for: demandBlocksWaiting(range, of: file), of: file), by: file)
                    }
                }
            })
        }
        let cached = prefetchedRecord(range, of: file) ?? cachedBlocks(range, of: file)
        if let cached, let data = arrived(cached, of: file) { return .ready(data) }
        return .waiting(PendingRead { [self] () throws(FSError) in
            try await markingStale(file) { () throws(FSError) in
                if let cached {
                    do throws(FSError) {
                        return delivered(try await wait(for: cached, of: file), by: file)
                    } catch where error.errno == ECANCELED {
                        // Read-ahead was called off (its handle closed) just as this reader joined it: fetch the range.
                    }
                }
                return ReadData(pieces: [.owned(try await fetcher.range(ByteRange(range), of: file.object))])
            }
        })
    }

    /// A read whose object turned out to be replaced (ESTALE) makes the next open ask S3 again.
    private func markingStale(
        _ file: FileHandle, _ body: () async throws(FSError) -> ReadData
    ) async throws(FSError) -> ReadData {
        do {
            return try await body()
        } catch {
            if error.errno == ESTALE { inodes.markStale(file.inode) }
            throw error
        }
    }

    public func release(handle: UInt64) {
        if StagedHandle.isStaged(handle) { return releaseStaged(handle: handle) }
        guard let file = files.remove(handle) else { return }
        inodes.countOpen(file.inode, -1)
        if file.readAhead.withLock({ $0.requestedThrough != nil }) { readingAhead.subtract(1, ordering: .relaxed) }
        file.cancelReadAhead()
    }

    // MARK: - Sequential reads

    private struct Demand: Sendable {
        let block: BlockBuffer
        let bytes: Range<Int>
    }

    /// The read's bytes if every demand has arrived (nothing to wait for).
    private func arrived(_ demands: [Demand], of file: FileHandle) -> ReadData? {
        inMemory(demands).map { delivered($0, by: file) }
    }

    /// The demands' bytes, their blocks counted as read, if every one has arrived.
    private func inMemory(_ demands: [Demand]) -> ReadData? {
        guard demands.allSatisfy({ $0.block.has($0.bytes.upperBound) }) else { return nil }
        for demand in demands { demand.block.noteRead() }
        return ReadData(pieces: demands.map { .block($0.block, $0.bytes) })
    }

    /// A handle's first read of its file, told to the read-ahead that works across files.
    private func noteFirstRead(of file: FileHandle) {
        dataset?.noteRead(directory: file.directory, name: file.name)
        manifest?.noteRead(key: file.object.key)
    }

    /// Blocks whose every byte has now been handed to the kernel leave the block cache: the page cache holds them
    /// (unless the handle reads with O_DIRECT). While several handles read the file, its blocks stay until evicted:
    /// the others' read-ahead would otherwise fetch again what the first reader has already passed.
    private func delivered(_ data: ReadData, by file: FileHandle) -> ReadData {
        guard file.pageCacheKeepsReads, inodes.openCount(file.inode) <= 1 else { return data }
        for case .block(let block, let bytes) in data.pieces where block.noteDelivered(bytes.count) {
            fetcher.cache.retire(block)
        }
        return data
    }

    /// The blocks holding `range`, their GETs started (or joined) as demand; nil when one must wait for memory
    /// (the blocks that could be had are started all the same). `loadingTierHere`: blocks the cache tier holds are
    /// read on this thread.
    private func demandBlocks(_ range: Range<UInt64>, of file: FileHandle, loadingTierHere: Bool) -> [Demand]? {
        var demands: [Demand] = []
        var complete = true
        for index in fetcher.blockIndex(of: range.lowerBound)...fetcher.blockIndex(of: range.upperBound - 1) {
            if let block = fetcher.block(
                index, of: file.object, priority: .demand, overLimit: false, loadingTierHere: loadingTierHere)
            {
                demands.append(demand(block, range))
            } else {
                complete = false
            }
        }
        return complete ? demands : nil
    }

    /// The blocks holding `range` as demand, waiting for memory where the budget is full.
    private func demandBlocksWaiting(_ range: Range<UInt64>, of file: FileHandle) async -> [Demand] {
        var demands: [Demand] = []
        for index in fetcher.blockIndex(of: range.lowerBound)...fetcher.blockIndex(of: range.upperBound - 1) {
            demands.append(demand(await fetcher.demandBlock(index, of: file.object), range))
        }
        return demands
    }

    private func demand(_ block: BlockBuffer, _ range: Range<UInt64>) -> Demand {
        let lower = max(range.lowerBound, block.objectOffset) - block.objectOffset
        let upper = min(range.upperBound, block.objectOffset + UInt64(block.length)) - block.objectOffset
        return Demand(block: block, bytes: Int(lower)..<Int(upper))
    }

    /// Waits for each block's bytes; a wait on read-ahead that has not arrived yet means the window is too short.
    private func wait(for demands: [Demand], of file: FileHandle) async throws(FSError) -> ReadData {
        for demand in demands where !demand.block.has(demand.bytes.upperBound) {
            file.readerWaits(on: demand.block)
            let began = ContinuousClock.now
            try await demand.block.waitFor(demand.bytes.upperBound)
            file.readerWaited(.now - began)
        }
        return ReadData(pieces: demands.map { .block($0.block, $0.bytes) })
    }

    /// Starts read-ahead of the blocks from `end` to `end + window`, as far as the memory budget allows. Handles
    /// reading ahead at once share half the budget: windows that together filled all of it would leave a demand
    /// read no memory but another reader's unread read-ahead, which it would evict and that reader fetch again.
    private func readAhead(after end: UInt64, of file: FileHandle) {
        guard end < file.object.size else { return }
        let share = UInt64(config.reads.memoryLimit / (2 * max(1, readingAhead.load(ordering: .relaxed))))
        let wanted = file.readAhead.withLock { state -> ClosedRange<UInt64>? in
            let current = fetcher.blockIndex(of: end)
            for (index, entry) in state.prefetched where index < current { entry.block?.noLongerReadAhead() }
            state.prefetched = state.prefetched.filter { $0.key >= current }
            let window = min(state.window.bytes, share)
            let last = fetcher.blockIndex(of: min(file.object.size, end + window) - 1)
            // Beyond the blocks this read demanded: a wait on those is no sign of a short window.
            let afterDemand = fetcher.blockIndex(of: end - 1) + 1
            let first = max(afterDemand, state.requestedThrough.map { $0 + 1 } ?? 0)
            return first <= last ? first...last : nil
        }
        guard let wanted else { return }
        for index in wanted {
            let lead = index * UInt64(fetcher.blockSize) - min(end, index * UInt64(fetcher.blockSize))
            guard let block = fetcher.block(index, of: file.object, priority: .prefetch, lead: lead) else { return }
            let isFirst = file.readAhead.withLock { state in
                state.prefetched[index] = FileHandle.Prefetched(block: block)
                block.wantedAsReadAhead()
                defer { state.requestedThrough = max(state.requestedThrough ?? 0, index) }
                return state.requestedThrough == nil
            }
            if isFirst { readingAhead.add(1, ordering: .relaxed) }
        }
    }

    // MARK: - Strided records

    /// Starts fetching the next records of a strided reader, up to its lead, as far as the memory budget allows.
    private func readRecordsAhead(from offset: UInt64, _ stride: RecordStride.Prediction, of file: FileHandle) {
        let extents = file.readAhead.withLock { state -> [(UInt64, Range<UInt64>)] in
            for (start, entry) in state.records where start + stride.stride <= offset { entry.block?.noLongerReadAhead() }
            state.records = state.records.filter { $0.key + stride.stride > offset }
            let lead = min(UInt64(state.recordLead), max(1, state.window.maximum / max(1, stride.length)))
            // Records already requested (by this stride) are not asked for again.
            var first: UInt64 = 1
            if let through = state.recordsRequestedThrough, through + RecordStride.slack >= stride.current {
                first = (through + RecordStride.slack - stride.current) / stride.stride + 1
            }
            guard first <= lead else { return [] }
            return (first...lead).compactMap { steps in
                stride.extent(steps: steps, objectSize: file.object.size).map { (steps, $0) }
            }
        }
        for (steps, extent) in extents {
            let lead = extent.lowerBound - min(offset, extent.lowerBound)
            guard let block = fetcher.record(at: extent.lowerBound, length: extent.count, of: file.object, lead: lead)
            else { return }
            readStats.prefetchedRecord(bytes: extent.count)
            file.readAhead.withLock { state in
                state.records[extent.lowerBound] = FileHandle.Prefetched(block: block)
                block.wantedAsReadAhead()
                state.recordsRequestedThrough = stride.current + steps * stride.stride
            }
        }
    }

    /// The demand for `range` if a record read ahead for this handle holds all of it.
    private func prefetchedRecord(_ range: Range<UInt64>, of file: FileHandle) -> [Demand]? {
        let record = file.readAhead.withLock { state in
            state.records.values.lazy.compactMap(\.block).first { block in
                !block.isFailed && block.objectOffset <= range.lowerBound
                    && range.upperBound <= block.objectOffset + UInt64(block.length)
            }
        }
        guard let record else { return nil }
        readStats.answeredFromPrefetchedRecord()
        return [demand(record, range)]
    }

    // MARK: - Random reads

    /// The demands for `range` if every block holding it is already cached or on its way.
    private func cachedBlocks(_ range: Range<UInt64>, of file: FileHandle) -> [Demand]? {
        var demands: [Demand] = []
        for index in fetcher.blockIndex(of: range.lowerBound)...fetcher.blockIndex(of: range.upperBound - 1) {
            guard let block = fetcher.listedBlock(index, of: file.object) else { return nil }
            demands.append(demand(block, range))
        }
        return demands
    }

    private func newPattern() -> AccessPattern {
        AccessPattern(tolerance: UInt64(max(config.reads.kernelReadAhead, config.reads.blockSize)))
    }

    /// One handle may read ahead at most a quarter of the memory budget, so a few sequential readers fit at full
    /// window and read-ahead never starves for memory it could only get by evicting other readers' blocks.
    private func newWindow() -> PrefetchWindow {
        PrefetchWindow(
            initial: UInt64(config.reads.kernelReadAhead + config.reads.blockSize),
            maximum: UInt64(min(config.reads.maxPrefetch, config.reads.memoryLimit / 4)))
    }
}
