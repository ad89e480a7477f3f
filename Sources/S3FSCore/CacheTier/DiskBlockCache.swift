// DiskBlockCache: the cache tier in files. Each block is one file (BlockFileFormat: a header repeating what the block
// is for and the XXH3 checksum of each 64 KiB chunk of its payload), written to DIR/tmp and renamed into
// DIR/<2 hex>/<hash>.blk, so a reader in any process sees a whole file or none. A file that does not match what was
// asked for (another block, another length, a chunk whose checksum fails, a short file) is removed, logged and
// fetched again; it is never served. A random read takes only the chunks it needs. A hit refreshes the file's
// mtime and sets its reuse mark, what CacheSpace's segmented eviction goes by. A lock on a byte of DIR/claims
// makes one process at a time fetch a block (FetchClaim). The tier is the same for every mount of one bucket on
// one endpoint set, whatever the mount point, prefix or process: a second mount reads what the first fetched, and
// a remount reuses every block whose ETag still matches (the ETag is in the name, so a replaced object's blocks
// are never asked for again and age out).
//
// The cache never fails a read: a directory that cannot be created or written, a full filesystem, a read error,
// each gets one warning (not one per block) and the reads go on from S3.
#if canImport(Glibc)
import Glibc
#endif
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
    }

    let config: CacheTierConfig
    let blockSize: Int
    private let space: CacheSpace
    private let claims: ClaimsFile
    private let logger: Logger
    private let counters = Mutex(Statistics())
    private let warned = Mutex<Set<String>>([])
    /// Numbers the temporary files of this process: one sequence for every tier in it, since two tiers of one
    /// process may share a directory (names made per tier collided, and one writer's file took another's place).
    private static let temporaryFileNumbers = Atomic<Int>(0)
    /// The fraction of its filesystem the directory may fill, whatever the capacity.
    private static let fullFilesystem = 0.9

    /// The tier at `config.directory`, or nil (with one warning) when the directory cannot be used.
    static func open(_ config: CacheTierConfig, blockSize: Int, logger: Logger) -> DiskBlockCache? {
        let tmp = config.directory + "/tmp"
        guard FileIO.makeDirectories(tmp), let space = CacheSpace(directory: config.directory, capacity: config.capacity),
            let claims = ClaimsFile(directory: config.directory)
        else {
            let reason = unsafe String(cString: strerror(errno))
            logger.warning(
                "cache tier off: cannot use the cache directory; reads go to S3",
                metadata: ["directory": "\(config.directory)", "error": "\(reason)"])
            return nil
        }
        space.reconcile()
        return DiskBlockCache(config: config, blockSize: blockSize, space: space, claims: claims, logger: logger)
    }

    private init(config: CacheTierConfig, blockSize: Int, space: CacheSpace, claims: ClaimsFile, logger: Logger) {
        self.config = config
        self.blockSize = blockSize
        self.space = space
        self.claims = claims
        self.logger = logger
    }

    var statistics: Statistics { counters.withLock { $0 } }

    /// Bytes of block files the directory holds, by the shared counter.
    var usedBytes: Int64 { space.used }

    func mayHold(_ key: BlockKey, length: Int) -> Bool {
        let path = config.directory + "/" + format(key, length: length).relativePath
        return unsafe access(path, F_OK) == 0
    }

    func load(_ buffer: BlockBuffer) -> Bool {
        let format = self.format(buffer.key, length: buffer.length)
        guard let file = openFile(format) else { return false }
        defer { close(file.descriptor) }
        var problem: BlockFileFormat.Problem?
        let loaded = unsafe buffer.load { storage in
            // Header and payload in one read: one disk request for a file the page cache does not hold.
            var header = [UInt8](repeating: 0, count: format.payloadOffset)
            let count = unsafe header.withUnsafeMutableBytes { unsafe Self.read(file.descriptor, $0, then: storage) }
            switch format.chunkChecksums(in: Array(header.prefix(count.header))) {
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

    func read(_ bytes: Range<Int>, ofBlock key: BlockKey, length: Int) -> [UInt8]? {
        let format = self.format(key, length: length)
        guard let file = openFile(format) else { return nil }
        defer { close(file.descriptor) }
        var header = [UInt8](repeating: 0, count: format.payloadOffset)
        let headerCount = unsafe header.withUnsafeMutableBytes { unsafe FileIO.preadAll(file.descriptor, $0, at: 0) }
        let checksums: [UInt64]
        switch format.chunkChecksums(in: Array(header.prefix(max(0, headerCount)))) {
        case .failure(let problem):
            reject(file.path, of: key.key, problem)
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
            drop(file.path, key: key.key, problem)
            return nil
        }
        hit(file.descriptor, bytes: bytes.count)
        return Array(payload[bytes.lowerBound - span.lowerBound..<bytes.upperBound - span.lowerBound])
    }

    private func format(_ key: BlockKey, length: Int) -> BlockFileFormat {
        BlockFileFormat(storeIdentity: config.storeIdentity, key: key, blockSize: blockSize, length: length)
    }

    /// The block file of `format`, open for reading; nil when there is none (or it cannot be opened: one warning).
    private func openFile(_ format: BlockFileFormat) -> (descriptor: Int32, path: String)? {
        let path = config.directory + "/" + format.relativePath
        let descriptor = unsafe Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno != ENOENT { failed("read", errno) }
            return nil
        }
        return (descriptor, path)
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

    func store(_ buffer: BlockBuffer) {
        guard buffer.isComplete, !filesystemIsFull() else { return }
        let format = self.format(buffer.key, length: buffer.length)
        let payload = unsafe buffer.bytes(0..<buffer.length)
        let header = unsafe format.header(payload: payload)
        let size = Int64(header.count + buffer.length)
        guard space.reserve(size) else {
            counters.withLock { $0.refused += 1 }
            warnOnce("capacity", "cache tier cannot make room for a block; it keeps what it has")
            return
        }
        let number = Self.temporaryFileNumbers.add(1, ordering: .relaxed).newValue
        let temporary = "\(config.directory)/tmp/\(getpid())-\(number).tmp"
        guard unsafe write(temporary, header, payload), publish(temporary, as: format.relativePath) else {
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

    /// Renames the written `temporary` file into place, making its fan-out directory the first time one is needed.
    private func publish(_ temporary: String, as relativePath: String) -> Bool {
        let path = config.directory + "/" + relativePath
        if unsafe rename(temporary, path) == 0 { return true }
        guard errno == ENOENT, FileIO.makeDirectories(config.directory + "/" + relativePath.prefix(2)) else { return false }
        return unsafe rename(temporary, path) == 0
    }

    /// Writes header and payload to a new file at `path`, which has its full size from the start (eviction scans
    /// count a live writer's temporary file at what it will hold).
    private func write(_ path: String, _ header: [UInt8], _ payload: UnsafeRawBufferPointer) -> Bool {
        let descriptor = unsafe Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        guard ftruncate(descriptor, off_t(header.count + payload.count)) == 0 else { return false }
        return unsafe FileIO.pwriteAll(descriptor, header, at: 0)
            && FileIO.pwriteAll(descriptor, payload, at: UInt64(header.count))
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

    private func filesystemIsFull() -> Bool {
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
