// DiskBlockCache: the cache tier in files. Each block is one file (BlockFileFormat: a header repeating what the block
// is for and the XXH3 checksum of each 64 KiB chunk of its payload), written as a temporary file in its fan-out
// directory and renamed to DIR/<2 hex>/<hash>.blk there, so a reader in any process sees a whole file or none (a rename
// between directories takes the filesystem's rename lock, which the tier's writer threads then queue on). The pages of
// a full block are written with O_DIRECT where the filesystem allows it (see `directWrites`), and blocks are loaded
// with O_DIRECT (see `readDirect`): the tier's files add no third copy to the page cache. Nothing waits for a
// store, and stores never hold more than `maxPendingStoreBytes` of blocks (see `storeLater`). A file that does not
// match what was asked for (another block, another length, a chunk whose checksum fails, a short file) is removed,
// logged and fetched again; it is never served. A random read takes only the chunks it needs. A hit refreshes the
// file's mtime and sets its reuse mark, what CacheSpace's segmented eviction goes by. A lock on a byte of DIR/claims
// makes one process at a time fetch a block (FetchClaim). The tier is the same for every mount of one bucket on one
// endpoint set, whatever the mount point, prefix or process: a second mount reads what the first fetched, and a remount
// reuses every block whose ETag still matches (the ETag is in the name, so a replaced object's blocks are never asked
// for again and age out).
//
// The cache never fails a read: a directory that cannot be created or written, a full filesystem, a read error,
// each gets one warning (not one per block) and the reads go on from S3.
#if canImport(Glibc)
import Glibc
#endif
import CSystem
import Logging
import Synchronization

final class DiskBlockCache: BlockTier {
    /// What the tier did, for --stats-file and the metrics.
    struct Statistics: Sendable, Equatable {
        var hits = 0
        var hitBytes: UInt64 = 0
        var stored = 0
        var storedBytes: UInt64 = 0
        var dropped = 0
        /// Blocks not kept because the capacity had no room for them even after eviction.
        var refused = 0
        var failures = 0
        /// Blocks not kept because the tier's queued writes already held `maxPendingStoreBytes` (a slow disk).
        var skipped = 0
    }

    let config: CacheTierConfig
    let blockSize: Int
    /// The most memory the blocks waiting to be written may hold; past it, blocks are not kept.
    let maxPendingStoreBytes: Int
    private let pendingStoreBytes = Atomic<Int>(0)
    private let space: CacheSpace
    private let claims: ClaimsFile
    private let logger: Logger
    private let counters = Mutex(Statistics())
    private let warned = Mutex<Set<String>>([])
    private let fullness = Mutex<(until: ContinuousClock.Instant, full: Bool)?>(nil)
    /// Whether block files are written with O_DIRECT: from the block's memory to the disk, with no copy into the page
    /// cache and no dirty pages for the kernel to write back later. Buffered, the copy was a large part of the
    /// daemon's CPU at disk speed, and dirty-page throttling slowed the stores, which held the blocks' memory, which
    /// starved read-ahead. Off for good once the filesystem refuses it (EINVAL).
    private let directWrites = Atomic<Bool>(true)
    /// Whether full blocks are loaded with O_DIRECT (see `readDirect`); off for good once the filesystem refuses it.
    private let directReads = Atomic<Bool>(true)
    /// Numbers the temporary files of this process: one sequence for every tier in it, since two tiers of one
    /// process may share a directory (names made per tier collided, and one writer's file took another's place).
    private static let temporaryFileNumbers = Atomic<Int>(0)
    private static let processID = getpid()
    /// The fraction of its filesystem the directory may fill, whatever the capacity.
    private static let fullFilesystem = 0.9

    /// The tier at `config.directory`, or nil (with one warning) when the directory cannot be used.
    static func open(
        _ config: CacheTierConfig, blockSize: Int, maxPendingStoreBytes: Int, logger: Logger
    ) -> DiskBlockCache? {
        guard FileIO.makeDirectories(config.directory), let space = CacheSpace(directory: config.directory, capacity: config.capacity),
            let claims = ClaimsFile(directory: config.directory)
        else {
            let reason = unsafe String(cString: strerror(errno))
            logger.warning(
                "cache tier off: cannot use the cache directory; reads go to S3",
                metadata: ["directory": "\(config.directory)", "error": "\(reason)"])
            return nil
        }
        spreadFanOutDirectories(of: config.directory)
        space.reconcile()
        return DiskBlockCache(
            config: config, blockSize: blockSize, maxPendingStoreBytes: maxPendingStoreBytes, space: space,
            claims: claims, logger: logger)
    }

    /// Has ext4 put each fan-out directory (and so the block files made in it) in a block group of its own. Packed
    /// into one group with the tier's directory, every file made after a mass removal (an eviction, an emptied cache)
    /// made ext4 without a journal step over each recently freed inode of that group, which it will not reuse
    /// for a minute: 6,000 stores of 100 KiB after three rounds of create and remove took 675 us each, spread 60 us.
    /// Elsewhere the request fails and changes nothing.
    private static func spreadFanOutDirectories(of directory: String) {
        let descriptor = unsafe Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = s3m_spread_subdirectories(descriptor)
        close(descriptor)
    }

    private init(
        config: CacheTierConfig, blockSize: Int, maxPendingStoreBytes: Int, space: CacheSpace, claims: ClaimsFile,
        logger: Logger
    ) {
        self.config = config
        self.blockSize = blockSize
        self.maxPendingStoreBytes = maxPendingStoreBytes
        self.space = space
        self.claims = claims
        self.logger = logger
    }

    var statistics: Statistics { counters.withLock { $0 } }

    /// Bytes of block files the directory holds, by the shared counter.
    var usedBytes: Int64 { space.used }

    func mayHold(_ key: BlockKey, length: Int) -> Bool {
        unsafe access(path(of: key, length: length), F_OK) == 0
    }

    func openBlock(_ key: BlockKey, length: Int) -> TierBlockFile? {
        let path = path(of: key, length: length)
        let descriptor = unsafe Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno != ENOENT { failed("read", errno) }
            return nil
        }
        return TierBlockFile(descriptor: descriptor, path: path, key: key, length: length)
    }

    func load(_ buffer: BlockBuffer, from file: TierBlockFile) -> Bool {
        precondition(file.key == buffer.key && file.length == buffer.length, "loading another block's file")
        let format = self.format(buffer.key, length: buffer.length)
        var problem: BlockFileFormat.Problem?
        let capacity = buffer.capacity
        let loaded = unsafe buffer.load { storage in
            // Header and payload in one read: one disk request for a file the page cache does not hold.
            let header = UnsafeMutableRawBufferPointer.allocate(
                byteCount: format.payloadOffset, alignment: BlockFileFormat.alignment)
            defer { unsafe header.deallocate() }
            let count = unsafe readDirect(file.descriptor, header, then: storage, capacity: capacity)
                ?? Self.read(file.descriptor, header, then: storage)
            switch format.chunkChecksums(in: unsafe Array(UnsafeRawBufferPointer(header).prefix(count.header))) {
            case .failure(let found):
                problem = found
                return false
            case .success(let checksums):
                guard count.payload == storage.count else {
                    problem = .damaged(count.payload < 0 ? "read failed" : "truncated payload")
                    return false
                }
                guard unsafe format.chunksMatch(0..<format.chunkCount, UnsafeRawBufferPointer(storage), checksums: checksums)
                else {
                    problem = .damaged("payload checksum mismatch")
                    return false
                }
                return true
            }
        }
        guard loaded else {
            reject(file.path, of: buffer.key.key, problem ?? .damaged("unreadable"))
            return false
        }
        buffer.keptInTier()
        hit(file.descriptor, bytes: buffer.length)
        return true
    }

    func read(_ bytes: Range<Int>, of file: TierBlockFile) -> [UInt8]? {
        let format = self.format(file.key, length: file.length)
        var header = [UInt8](repeating: 0, count: format.payloadOffset)
        let headerCount = unsafe header.withUnsafeMutableBytes { unsafe FileIO.preadAll(file.descriptor, $0, at: 0) }
        let checksums: [UInt64]
        switch format.chunkChecksums(in: Array(header.prefix(max(0, headerCount)))) {
        case .failure(let problem):
            reject(file.path, of: file.key.key, problem)
            return nil
        case .success(let found):
            checksums = found
        }
        let chunks = format.chunks(covering: bytes)
        let span = format.payloadBytes(of: chunks)
        var payload = [UInt8](repeating: 0, count: span.count)
        var problem: String?
        unsafe payload.withUnsafeMutableBytes { storage in
            let count = unsafe FileIO.preadAll(file.descriptor, storage, at: UInt64(format.payloadOffset + span.lowerBound))
            guard count == storage.count else {
                problem = count < 0 ? "read failed" : "truncated payload"
                return
            }
            if unsafe !format.chunksMatch(chunks, UnsafeRawBufferPointer(storage), checksums: checksums) {
                problem = "payload checksum mismatch"
            }
        }
        if let problem {
            drop(file.path, key: file.key.key, problem)
            return nil
        }
        hit(file.descriptor, bytes: bytes.count)
        return Array(payload[bytes.lowerBound - span.lowerBound..<bytes.upperBound - span.lowerBound])
    }

    private func format(_ key: BlockKey, length: Int) -> BlockFileFormat {
        BlockFileFormat(storeIdentity: config.storeIdentity, key: key, blockSize: blockSize, length: length)
    }

    /// Where the file of block `key` (of `length` bytes) is, when the tier has it.
    private func path(of key: BlockKey, length: Int) -> String {
        config.directory + "/" + format(key, length: length).relativePath
    }

    /// Removes a block file that is not what it should be: logged as damage, or quietly when an s3mount with
    /// another file format wrote it.
    private func reject(_ path: String, of key: String, _ problem: BlockFileFormat.Problem) {
        switch problem {
        case .otherVersion: _ = unsafe unlink(path)
        case .damaged(let reason): drop(path, key: key, reason)
        }
    }

    /// Counts a hit, refreshes the file's recency and sets its reuse mark (what eviction goes by).
    private func hit(_ descriptor: Int32, bytes: Int) {
        _ = futimens(descriptor, nil)
        _ = fchmod(descriptor, CacheSpace.reusedFileMode)  // protected from one-pass scans
        counters.withLock {
            $0.hits += 1
            $0.hitBytes += UInt64(bytes)
        }
    }

    func storeLater(_ buffer: BlockBuffer, releasing claim: FetchClaim?) {
        let bytes = buffer.capacity
        // One block is always let through: the bound is on what waits behind the write under way.
        let pending = pendingStoreBytes.add(bytes, ordering: .relaxed).newValue
        guard pending == bytes || pending <= maxPendingStoreBytes else {
            pendingStoreBytes.subtract(bytes, ordering: .relaxed)
            counters.withLock { $0.skipped += 1 }
            warnOnce("behind", "cache tier writes fall behind the reads; blocks are skipped while they do")
            return
        }
        BlockingIO.cacheTierWrites.submit { [self] in
            store(buffer)
            pendingStoreBytes.subtract(bytes, ordering: .relaxed)
            withExtendedLifetime(claim) {}
        }
    }

    private func store(_ buffer: BlockBuffer) {
        guard buffer.isComplete, !filesystemIsFull() else { return }
        let format = self.format(buffer.key, length: buffer.length)
        let payload = unsafe buffer.bytes(0..<buffer.length)
        let header = unsafe format.header(payload: payload)
        let size = Int64(header.count + buffer.length)
        let number = Self.temporaryFileNumbers.add(1, ordering: .relaxed).newValue
        let hashName = format.hashName
        let blockName = hashName + ".blk"
        let fanOut = config.directory + "/" + hashName.prefix(2)
        let temporary = fanOut + "/"
            + CacheSpace.temporaryName(process: Self.processID, number: number, bytes: size, finalName: blockName)
        // The temporary file exists before its room is reserved, so every reservation has a file an eviction scan
        // can count (made after the reservation, it could be missed by a scan that started in between, and the
        // bound passed by a block per writer).
        guard let file = unsafe create(temporary, forPayload: payload, makingDirectory: fanOut) else {
            failed("write", errno)
            return
        }
        defer { close(file.descriptor) }
        guard space.reserve(size, for: temporary) else {
            _ = unsafe unlink(temporary)
            counters.withLock { $0.refused += 1 }
            warnOnce("capacity", "cache tier cannot make room for a block; it keeps what it has")
            return
        }
        guard unsafe write(file, header, payload), unsafe rename(temporary, fanOut + "/" + blockName) == 0 else {
            failed("write", errno)
            _ = unsafe unlink(temporary)
            space.release(size)
            return
        }
        buffer.keptInTier()
        counters.withLock {
            $0.stored += 1
            $0.storedBytes += UInt64(buffer.length)
        }
    }

    func claimFetch(of buffer: BlockBuffer) -> FetchClaim.Outcome {
        let format = self.format(buffer.key, length: buffer.length)
        return FetchClaim.take(format.hashName, in: claims)
    }

    /// Creates the file at `path` that `payload` will be written to, making its fan-out `directory` the first time
    /// one is needed: with O_DIRECT, to write straight from the block's memory, when the payload is whole pages of
    /// page-aligned memory (a full block) and the filesystem takes it; for the page cache otherwise (a small file's
    /// block, whose tail page O_DIRECT cannot write, costs little to copy). Nil when it cannot be made (errno set).
    private func create(
        _ path: String, forPayload payload: UnsafeRawBufferPointer, makingDirectory directory: String
    ) -> (descriptor: Int32, direct: Bool)? {
        let alignment = BlockFileFormat.alignment
        var direct = directWrites.load(ordering: .relaxed) && payload.count >= Self.directWriteMinimum
            && payload.count % alignment == 0 && Int(bitPattern: payload.baseAddress) % alignment == 0
        var descriptor = create(path, flags: direct ? s3m_o_direct() : 0, makingDirectory: directory)
        if descriptor < 0, direct, errno == EINVAL {
            refuseDirectWrites()
            direct = false
            _ = unsafe unlink(path)  // the open that refused O_DIRECT may have created the file
            descriptor = create(path, flags: 0, makingDirectory: directory)
        }
        return descriptor >= 0 ? (descriptor, direct) : nil
    }

    /// Writes header and payload to the new `file`.
    private func write(
        _ file: (descriptor: Int32, direct: Bool), _ header: [UInt8], _ payload: UnsafeRawBufferPointer
    ) -> Bool {
        let descriptor = file.descriptor
        if file.direct {
            // The pages are written into a file that has its full size already (an O_DIRECT write past the end costs
            // ext4 more). Eviction scans count a live writer's temporary file by the bytes its name carries.
            guard ftruncate(descriptor, off_t(header.count + payload.count)) == 0 else { return false }
            let written = unsafe Self.writeDirect(descriptor, header, payload)
            if written == header.count + payload.count { return true }
            if written < 0, errno == EINVAL { refuseDirectWrites() }
            // Whatever O_DIRECT did not write is written again through the page cache.
            let flags = fcntl(descriptor, F_GETFL)
            guard flags >= 0, fcntl(descriptor, F_SETFL, flags & ~s3m_o_direct()) == 0 else { return false }
        }
        // Header and payload in one pwritev; after a short one, again one part at a time.
        let written = unsafe header.withUnsafeBytes { header in
            var vectors = unsafe [
                iovec(iov_base: UnsafeMutableRawPointer(mutating: header.baseAddress), iov_len: header.count),
                iovec(iov_base: UnsafeMutableRawPointer(mutating: payload.baseAddress), iov_len: payload.count),
            ]
            return unsafe pwritev(descriptor, &vectors, 2, 0)
        }
        if written == header.count + payload.count { return true }
        return unsafe FileIO.pwriteAll(descriptor, header, at: 0)
            && FileIO.pwriteAll(descriptor, payload, at: UInt64(header.count))
    }

    /// The smallest payload written with O_DIRECT: below it the copy costs less than the synchronous disk write.
    private static let directWriteMinimum = 1 << 20

    /// Creates the file at `path` with `flags` added, making its fan-out `directory` when it is missing; the
    /// descriptor, or -1 (errno set).
    private func create(_ path: String, flags: Int32, makingDirectory directory: String) -> Int32 {
        let mode = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | flags
        let descriptor = unsafe Glibc.open(path, mode, 0o600)
        guard descriptor < 0, errno == ENOENT, FileIO.makeDirectories(directory) else { return descriptor }
        return unsafe Glibc.open(path, mode, 0o600)
    }

    /// `header` (a multiple of the alignment long) and `pages` (page-aligned memory, whole pages) in one pwritev on
    /// an O_DIRECT descriptor, from offset 0; the bytes written, or -1 (errno set).
    private static func writeDirect(_ descriptor: Int32, _ header: [UInt8], _ pages: UnsafeRawBufferPointer) -> Int {
        // O_DIRECT takes only aligned memory: the header goes through a page of its own.
        let alignedHeader = UnsafeMutableRawBufferPointer.allocate(byteCount: header.count, alignment: BlockFileFormat.alignment)
        defer { unsafe alignedHeader.deallocate() }
        unsafe header.withUnsafeBytes { unsafe alignedHeader.copyMemory(from: $0) }
        var vectors = unsafe [
            iovec(iov_base: alignedHeader.baseAddress, iov_len: header.count),
            iovec(iov_base: UnsafeMutableRawPointer(mutating: pages.baseAddress), iov_len: pages.count),
        ]
        var written = unsafe pwritev(descriptor, &vectors, 2, 0)
        while written < 0 && errno == EINTR { written = unsafe pwritev(descriptor, &vectors, 2, 0) }
        return written
    }

    private func refuseDirectWrites() {
        if directWrites.exchange(false, ordering: .relaxed) {
            logger.info("cache tier: the filesystem refuses O_DIRECT; block files are written through the page cache",
                metadata: ["directory": "\(config.directory)"])
        }
    }

    private func drop(_ path: String, key: String, _ problem: String) {
        _ = unsafe unlink(path)
        counters.withLock { $0.dropped += 1 }
        logger.warning(
            "cache tier: dropped a bad block file; fetching the block from S3",
            metadata: ["key": "\(key)", "file": "\(path)", "problem": "\(problem)"])
    }

    private func failed(_ operation: String, _ code: Int32) {
        counters.withLock { $0.failures += 1 }
        let reason = unsafe String(cString: strerror(code))
        warnOnce("\(operation) \(code)", "cache tier \(operation) failed (\(reason)); those blocks come from S3")
    }

    /// Whether the filesystem is past the full mark, asked of it at most once a second (a store is a few system
    /// calls; a statvfs for each was one more).
    private func filesystemIsFull() -> Bool {
        let now = ContinuousClock.now
        if let known = fullness.withLock({ $0.flatMap { now < $0.until ? $0.full : nil } }) { return known }
        let full = measureFullness()
        fullness.withLock { $0 = (now + .seconds(1), full) }
        return full
    }

    private func measureFullness() -> Bool {
        var status = statvfs()
        guard unsafe statvfs(config.directory, &status) == 0 else { return false }
        // As df counts it: blocks in use over blocks in use plus those an unprivileged writer may still take (the
        // blocks reserved for root count neither way).
        let inUse = Double(status.f_blocks - status.f_bfree)
        guard inUse + Double(status.f_bavail) > 0, inUse / (inUse + Double(status.f_bavail)) > Self.fullFilesystem else {
            return false
        }
        warnOnce("full", "cache tier stops growing: its filesystem is over 90 % full")
        return true
    }

    private func warnOnce(_ kind: String, _ message: Logger.Message) {
        guard warned.withLock({ $0.insert(kind).inserted }) else { return }
        logger.warning(message, metadata: ["directory": "\(config.directory)"])
    }

    /// Reads like `read`, with O_DIRECT, when `header` and `payload` are page-aligned and the payload's memory
    /// (`capacity` bytes) has room for its last page whole: from the disk into the block's memory, with no copy into
    /// the page cache. The block is about to sit in memory and then in the mount's own page cache; a third copy in
    /// the block file's pages would cost a copy and page allocations per block and push other pages out. Nil when
    /// O_DIRECT cannot be used or the read came out short: the caller reads again through the page cache.
    private func readDirect(
        _ descriptor: Int32, _ header: UnsafeMutableRawBufferPointer, then payload: UnsafeMutableRawBufferPointer,
        capacity: Int
    ) -> (header: Int, payload: Int)? {
        let alignment = BlockFileFormat.alignment
        let pages = (payload.count + alignment - 1) / alignment * alignment
        guard directReads.load(ordering: .relaxed), pages <= capacity,
            Int(bitPattern: header.baseAddress) % alignment == 0, Int(bitPattern: payload.baseAddress) % alignment == 0
        else { return nil }
        let flags = fcntl(descriptor, F_GETFL)
        guard flags >= 0 else { return nil }
        guard fcntl(descriptor, F_SETFL, flags | s3m_o_direct()) == 0 else {
            if errno == EINVAL, directReads.exchange(false, ordering: .relaxed) {
                logger.info("cache tier: the filesystem refuses O_DIRECT; block files are read through the page cache",
                    metadata: ["directory": "\(config.directory)"])
            }
            return nil
        }
        var vectors = unsafe [
            iovec(iov_base: header.baseAddress, iov_len: header.count),
            iovec(iov_base: payload.baseAddress, iov_len: pages),
        ]
        var count = unsafe preadv(descriptor, &vectors, 2, 0)
        while count < 0 && errno == EINTR { count = unsafe preadv(descriptor, &vectors, 2, 0) }
        if count == header.count + payload.count { return (header.count, payload.count) }
        _ = fcntl(descriptor, F_SETFL, flags)
        return nil
    }

    /// Reads the file's first `header.count` bytes into `header` and the bytes after them into `payload`, in one
    /// preadv when the file holds them all; the bytes each got, -1 for a read error.
    private static func read(
        _ descriptor: Int32, _ header: UnsafeMutableRawBufferPointer, then payload: UnsafeMutableRawBufferPointer
    ) -> (header: Int, payload: Int) {
        var vectors = unsafe [
            iovec(iov_base: header.baseAddress, iov_len: header.count),
            iovec(iov_base: payload.baseAddress, iov_len: payload.count),
        ]
        var count = unsafe preadv(descriptor, &vectors, 2, 0)
        while count < 0 && errno == EINTR { count = unsafe preadv(descriptor, &vectors, 2, 0) }
        guard count >= 0 else { return (-1, -1) }
        let headerDone = min(count, header.count)
        guard count < header.count + payload.count, count > 0 else { return (headerDone, max(0, count - header.count)) }
        // A short read (a truncated file, or a read cut by a signal): the rest one part at a time.
        let headerRest = unsafe UnsafeMutableRawBufferPointer(rebasing: header[headerDone...])
        let headerCount = headerDone + max(0, unsafe FileIO.preadAll(descriptor, headerRest, at: UInt64(headerDone)))
        guard headerCount == header.count else { return (headerCount, 0) }
        let payloadDone = count - header.count
        let payloadRest = unsafe UnsafeMutableRawBufferPointer(rebasing: payload[max(0, payloadDone)...])
        let more = unsafe FileIO.preadAll(descriptor, payloadRest, at: UInt64(header.count + max(0, payloadDone)))
        return (headerCount, more < 0 ? -1 : max(0, payloadDone) + more)
    }
}
