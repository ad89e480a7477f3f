// CacheSpace: one size bound for a cache directory that several processes use at once. The bytes in use are a counter
// in DIR/usage, mapped into every process that uses the directory (MAP_SHARED) and changed with atomic
// compare-and-swap, so a reservation costs no system call (under flock and pread/pwrite it cost four per block, 3% of
// the daemon's CPU in an epoch of small files): a block's temporary file is made, then its bytes reserved, then
// written (a reservation made before its file could be missed by a scan that started in between), and the bytes are
// given back if the write fails. A reservation that would pass the capacity first has one process at a time (flock on DIR/evict.lock)
// scan the directory and remove block files down to 90 % of the capacity, the victims picked by EvictionPolicy.tier
// from each file's stat: its mtime (a hit refreshes it) and its reuse mark (the sticky bit a hit sets), so blocks
// never served again go before the reused working set. The scan then sets the counter to what it found plus what was
// reserved while it ran, which also corrects any drift (a writer killed between its reservation and its rename). The
// temporary files of live writers (`.tmp-` names beside the block files, which carry the bytes reserved and the name
// the file will take) count but are never evicted (their writers would lose the block); those older than a minute
// are a killed writer's and go. A reservation retries after each eviction, because other writers may take the room
// one frees. A file another process still has open stays readable after its unlink, so eviction never breaks a read.
#if canImport(Glibc)
import Glibc
#endif
import CSystem
import Synchronization

final class CacheSpace: Sendable {
    let directory: String
    let capacity: Int64
    private let usage: SharedCounter
    private let evictDescriptor: Int32
    /// Eviction within this process, one thread at a time (the flock excludes other processes only).
    private let evicting = Mutex(())
    /// Evictions a reservation may run before it gives up (each frees room that other writers may take first).
    private static let evictionAttempts = 3

    /// How the temporary file of a block being written is named, in the fan-out directory of the block.
    static let temporaryPrefix = ".tmp-"

    /// The mode of a block file served from the tier at least once: the reuse mark, the sticky bit (which means
    /// nothing on a regular file), set by the hit next to the mtime refresh and seen by every process's scan.
    static let reusedFileMode = mode_t(0o600) | S_ISVTX

    /// Opens (creating) the directory's shared files; nil when it cannot be used (the caller warns).
    init?(directory: String, capacity: Int64) {
        self.directory = directory
        self.capacity = capacity
        guard let usage = SharedCounter(path: directory + "/usage") else { return nil }
        evictDescriptor = unsafe open(directory + "/evict.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard evictDescriptor >= 0 else { return nil }
        self.usage = usage
    }

    deinit {
        close(evictDescriptor)
    }

    /// The bytes the counter says are in use.
    var used: Int64 { withUsage { $0 } }

    /// Reserves `bytes` for the block file about to be written under the temporary name `temporaryFile` (a path,
    /// made before the reservation so that no scan can miss it), evicting first if they would not fit; false when
    /// they cannot fit even then.
    func reserve(_ bytes: Int64, for temporaryFile: String) -> Bool {
        guard bytes <= capacity else { return false }
        for _ in 0..<Self.evictionAttempts {
            if tryReserve(bytes) { return true }
            evict(leaving: capacity * 9 / 10 - bytes, except: temporaryFile)
        }
        return tryReserve(bytes)
    }

    /// Gives back a reservation whose file was not kept (or the size of a file removed).
    func release(_ bytes: Int64) {
        withUsage { $0 = max(0, $0 - bytes) }
    }

    /// Sets the counter to what the directory holds (at start: another process may have been killed mid-write).
    func reconcile() {
        evict(leaving: capacity)
    }

    private func tryReserve(_ bytes: Int64) -> Bool {
        withUsage { used in
            guard used + bytes <= capacity else { return false }
            used += bytes
            return true
        }
    }

    /// Removes the block files the policy picks until at most `target` bytes remain (or only live writers'
    /// temporary files do), then sets the counter. `reserving` is the temporary file of the reservation that asks
    /// for the room: not counted, since it is not reserved yet.
    private func evict(leaving target: Int64, except reserving: String? = nil) {
        evicting.withLock { _ in
            flock(evictDescriptor, LOCK_EX)
            defer { flock(evictDescriptor, LOCK_UN) }
            // Writers of other processes (and this one's other threads) go on reserving while the scan runs, and
            // the file of such a reservation may be made in a directory the scan has already read: those bytes
            // are added to what the scan finds (counted twice when the scan saw the file too, which the next scan
            // corrects: the bound is never passed for a miscount).
            let reservedBefore = used
            let (files, temporaryBytes) = scan(except: reserving)
            var total = files.reduce(temporaryBytes) { $0 + $1.size }
            for victim in EvictionPolicy.tier.victims(files, pinnedBytes: temporaryBytes, leaving: max(0, target)) {
                if unsafe unlink(victim.path) == 0 || errno == ENOENT { total -= victim.size }
            }
            withUsage { $0 = total + max(0, $0 - reservedBefore) }
        }
    }

    /// Every block file under the directory, and the bytes of the temporary files of live writers (those of dead
    /// ones are removed). A writer's rename between the listing of a directory and the stat of its entries shows
    /// its block under the temporary name (gone at the stat), the final name, or both: it is counted once, under
    /// the final name its temporary name carries; a temporary file counts the bytes its writer reserved, also before
    /// they are written.
    private func scan(except reserving: String?) -> (files: [TierFile], temporaryBytes: Int64) {
        var files: [TierFile] = []
        var temporaryBytes: Int64 = 0
        let now = time(nil)
        for subdirectory in FileIO.names(in: directory) where subdirectory.utf8.count == 2 {
            let path = directory + "/" + subdirectory
            var counted = Set<String>()
            for name in FileIO.names(in: path) {
                var blockName = name
                if name.hasPrefix(Self.temporaryPrefix) {
                    let temporary = path + "/" + name
                    if temporary == reserving { continue }
                    let pending = Self.temporaryNameParts(name)
                    var status = stat()
                    if unsafe stat(temporary, &status) == 0 {
                        guard (status.st_mode & S_IFMT) == S_IFREG else { continue }
                        if now - status.st_mtim.tv_sec > 60 {
                            _ = unsafe unlink(temporary)
                        } else {
                            temporaryBytes += max(Int64(status.st_size), pending?.bytes ?? 0)
                        }
                        continue
                    }
                    guard let pending else { continue }
                    blockName = pending.finalName
                }
                guard counted.insert(blockName).inserted, let file = Self.tierFile(path + "/" + blockName) else { continue }
                files.append(file)
            }
        }
        return (files, temporaryBytes)
    }

    private static func tierFile(_ path: String) -> TierFile? {
        var status = stat()
        guard unsafe stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        let recency = Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec)
        return TierFile(path: path, size: Int64(status.st_size), recency: recency, reused: status.st_mode & S_ISVTX != 0)
    }

    /// The name of the temporary file that a writer fills and then renames to `finalName` in the same directory: it
    /// carries the bytes the writer reserved and the name it will take (see `scan`).
    static func temporaryName(process: Int32, number: Int, bytes: Int64, finalName: String) -> String {
        "\(temporaryPrefix)\(process)-\(number)-\(bytes)-\(finalName)"
    }

    /// The reserved bytes and the final name in a temporary file's name; nil for a name without them.
    static func temporaryNameParts(_ name: String) -> (bytes: Int64, finalName: String)? {
        let parts = name.dropFirst(temporaryPrefix.count).split(separator: "-", maxSplits: 3)
        guard parts.count == 4, let bytes = Int64(parts[2]) else { return nil }
        return (bytes, String(parts[3]))
    }

    /// Runs `body` on the shared counter, atomically: again if another writer changed the counter meanwhile.
    private func withUsage<T>(_ body: (inout Int64) -> T) -> T {
        while true {
            let before = usage.load()
            var value = before
            let result = body(&value)
            if value == before || usage.replace(before, with: value) { return result }
        }
    }
}

/// The first 8 bytes of a file, mapped shared and changed only with atomic instructions.
@safe private final class SharedCounter: Sendable {
    // SAFETY: `address` is the start of a mapping of at least 8 bytes of a file at least 8 bytes long, unmapped only
    // in deinit; every access is one of CSystem's atomics.
    private nonisolated(unsafe) let address: UnsafeMutablePointer<Int64>

    init?(path: String) {
        let descriptor = unsafe open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard unsafe fstat(descriptor, &status) == 0,
            status.st_size >= 8 || ftruncate(descriptor, 8) == 0,
            let mapped = unsafe mmap(nil, 8, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0),
            unsafe mapped != MAP_FAILED
        else { return nil }
        unsafe address = mapped.bindMemory(to: Int64.self, capacity: 1)
    }

    deinit {
        _ = unsafe munmap(address, 8)
    }

    func load() -> Int64 {
        Int64(unsafe s3m_shared_load(address))
    }

    /// Sets the counter to `new` if it still holds `old`.
    func replace(_ old: Int64, with new: Int64) -> Bool {
        unsafe s3m_shared_compare_exchange(address, old, new) == 1
    }
}
