// DiskBlockCache: the cache tier in files. Each block is one file (BlockFileFormat: a header repeating what the block
// is for and the XXH3 checksum of its payload), written to DIR/tmp and renamed into DIR/<2 hex>/<hash>.blk, so a
// reader in any process sees a whole file or none. A file that does not match what was asked for (another block,
// another length, a payload whose checksum fails, a short file) is removed, logged and fetched again; it is never
// served. A hit refreshes the file's mtime, the recency CacheSpace evicts by. The tier is the same for every mount
// of one bucket on one endpoint set, whatever the mount point, prefix or process: a second mount reads what the
// first fetched, and a remount reuses every block whose ETag still matches (the ETag is in the name, so a replaced
// object's blocks are never asked for again and age out).
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
        guard makeDirectories(tmp), let space = CacheSpace(directory: config.directory, capacity: config.capacity) else {
            let reason = unsafe String(cString: strerror(errno))
            logger.warning(
                "cache tier off: cannot use the cache directory; reads go to S3",
                metadata: ["directory": "\(config.directory)", "error": "\(reason)"])
            return nil
        }
        space.reconcile()
        return DiskBlockCache(config: config, blockSize: blockSize, space: space, logger: logger)
    }

    private init(config: CacheTierConfig, blockSize: Int, space: CacheSpace, logger: Logger) {
        self.config = config
        self.blockSize = blockSize
        self.space = space
        self.logger = logger
    }

    var statistics: Statistics { counters.withLock { $0 } }

    /// Bytes of block files the directory holds, by the shared counter.
    var usedBytes: Int64 { space.used }

    func load(_ buffer: BlockBuffer) -> Bool {
        let format = BlockFileFormat(storeIdentity: config.storeIdentity, key: buffer.key, blockSize: blockSize)
        let path = config.directory + "/" + format.relativePath
        let descriptor = unsafe Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno != ENOENT { failed("read", errno) }
            return false
        }
        defer { close(descriptor) }
        var header = [UInt8](repeating: 0, count: format.payloadOffset)
        let headerRead = unsafe header.withUnsafeMutableBytes { unsafe Self.readFully(descriptor, $0, at: 0) }
        var checksum: UInt64 = 0
        if let problem = format.problem(with: Array(header.prefix(max(0, headerRead))), length: buffer.length, checksum: &checksum) {
            drop(path, key: buffer.key.key, problem)
            return false
        }
        var problem: String?
        let loaded = unsafe buffer.load { storage in
            let count = unsafe Self.readFully(descriptor, storage, at: format.payloadOffset)
            guard count == storage.count else {
                problem = count < 0 ? "read failed" : "truncated payload"
                return false
            }
            guard unsafe BlockFileFormat.checksum(UnsafeRawBufferPointer(storage)) == checksum else {
                problem = "payload checksum mismatch"
                return false
            }
            return true
        }
        guard loaded else {
            drop(path, key: buffer.key.key, problem ?? "unreadable")
            return false
        }
        _ = futimens(descriptor, nil)  // recency for eviction
        _ = fchmod(descriptor, CacheSpace.reusedFileMode)  // the reuse mark: protected from one-pass scans
        counters.withLock {
            $0.hits += 1
            $0.hitBytes += UInt64(buffer.length)
        }
        return true
    }

    func store(_ buffer: BlockBuffer) {
        guard buffer.isComplete, !filesystemIsFull() else { return }
        let format = BlockFileFormat(storeIdentity: config.storeIdentity, key: buffer.key, blockSize: blockSize)
        let payload = unsafe buffer.bytes(0..<buffer.length)
        let header = unsafe format.header(payload: payload)
        let size = Int64(header.count + buffer.length)
        guard space.reserve(size) else {
            counters.withLock { $0.refused += 1 }
            warnOnce("capacity", "cache tier cannot make room for a block; it keeps what it has")
            return
        }
        let relativePath = format.relativePath
        let path = config.directory + "/" + relativePath
        let temporary = "\(config.directory)/tmp/\(getpid())-\(Self.temporaryFileNumbers.add(1, ordering: .relaxed).newValue).tmp"
        guard unsafe write(temporary, header, payload), publish(temporary, as: relativePath) else {
            failed("write", errno)
            _ = unsafe unlink(temporary)
            space.release(size)
            return
        }
        counters.withLock {
            $0.stored += 1
            $0.storedBytes += UInt64(buffer.length)
        }
    }

    /// Renames the written `temporary` file into place, making its fan-out directory the first time one is needed.
    private func publish(_ temporary: String, as relativePath: String) -> Bool {
        let path = config.directory + "/" + relativePath
        if unsafe rename(temporary, path) == 0 { return true }
        guard errno == ENOENT, Self.makeDirectories(config.directory + "/" + relativePath.prefix(2)) else { return false }
        return unsafe rename(temporary, path) == 0
    }

    /// Writes header and payload to a new file at `path`, which has its full size from the start (eviction scans
    /// count a live writer's temporary file at what it will hold).
    private func write(_ path: String, _ header: [UInt8], _ payload: UnsafeRawBufferPointer) -> Bool {
        let descriptor = unsafe Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        guard ftruncate(descriptor, off_t(header.count + payload.count)) == 0 else { return false }
        let wroteHeader = unsafe header.withUnsafeBytes { unsafe Self.writeFully(descriptor, $0) }
        let wrotePayload = unsafe Self.writeFully(descriptor, payload)
        return wroteHeader && wrotePayload
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

    private static func makeDirectories(_ path: String) -> Bool {
        var prefix = ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + component
            if unsafe mkdir(prefix, 0o700) != 0 && errno != EEXIST { return false }
        }
        return true
    }

    private static func readFully(_ descriptor: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        var done = 0
        while done < buffer.count {
            let count = unsafe pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if count < 0 && errno == EINTR { continue }
            if count < 0 { return -1 }
            if count == 0 { break }
            done += count
        }
        return done
    }

    private static func writeFully(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var done = 0
        while done < bytes.count {
            let count = unsafe Glibc.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return false }
            done += count
        }
        return true
    }
}
