// EntryLeases: the kernel may keep a file's name and attributes far longer than the metadata TTL when the name was
// answered from a complete listing of its directory, because s3mount keeps the TTL's promise itself: while a lease
// on a directory runs, the directory is listed again as each listing runs out (one LIST per TTL for the whole
// directory; FileSystem+Leases), and every leased name whose object changed or went is taken back from the kernel
// (FUSE's notify_inval_entry, and its inode's cached attributes). An epoch over a dataset whose names the kernel
// holds then costs no lookup round trip per file, and a change in S3 still shows within about a TTL.
//
// A lease on a directory runs `duration` past the last name it handed out (or whose attributes it handed out
// again: `renew`); the kernel asks again after that. At most `maxDirectories` directories hold leases at once (each
// costs a LIST per TTL while it does); names in any other directory get the TTL. Each directory remembers the
// version of every name it leased, so a change is found whoever's listing saw it (a readdir, a walk, the keeper's
// own). A name taken back is taken back once more at the next round: a lookup answered just before the change
// could reach the kernel after the first.
//
// On a writable mount the mount's own changes need nothing more: creates, unlinks, renames and writes pass through
// the kernel, which updates the names and sizes it holds itself. A file the mount is writing is never leased (it
// has no version in S3 yet); once its upload lands, the keeper sees a new ETag and takes the old name back.
import ObjectStore

final class EntryLeases: Sendable {
    /// The identity and version of a file as the kernel was told it.
    struct FileVersion: Hashable, Sendable {
        var number: InodeNumber
        var etag: ETag?
        var size: UInt64
    }

    private struct Lease {
        var expiry: ContinuousClock.Instant
        var names: [[UInt8]: FileVersion] = [:]
        /// Names taken back at the last round, to take back once more.
        var takenBack: [[UInt8]] = []
    }

    /// How long the kernel may keep a leased name.
    let seconds: Double
    let maxDirectories: Int
    private let duration: Duration
    private let leases = SleepingLock<[InodeNumber: Lease]>([:])

    init(seconds: Double, maxDirectories: Int = 256) {
        self.seconds = seconds
        self.maxDirectories = maxDirectories
        duration = .milliseconds(Int64(seconds * 1000))
    }

    /// Leases `file` (a child of `directory`) to the kernel when the directory holds a lease or one more fits;
    /// false: answer with the TTL.
    func grant(_ file: Inode, in directory: InodeNumber, now: ContinuousClock.Instant = .now) -> Bool {
        let version = FileVersion(number: file.number, etag: file.etag, size: file.size)
        let name = Array(file.name.utf8)
        return leases.withLock { leases in
            if leases[directory] == nil {
                guard leases.count < maxDirectories else { return false }
                leases[directory] = Lease(expiry: now)
            }
            leases[directory]!.expiry = now + duration
            leases[directory]!.names[name] = version
            return true
        }
    }

    /// Extends the lease on `file`'s name when it is leased at the version `file` has (its attributes asked again:
    /// the kernel may keep them for the lease too); false: answer with the TTL.
    func renew(_ file: Inode, now: ContinuousClock.Instant = .now) -> Bool {
        let version = FileVersion(number: file.number, etag: file.etag, size: file.size)
        let name = Array(file.name.utf8)
        return leases.withLock { leases in
            guard let lease = leases[file.parent], lease.expiry > now, lease.names[name] == version else { return false }
            leases[file.parent]!.expiry = now + duration
            return true
        }
    }

    /// The directories whose leases still run; those that ran out are dropped (the kernel asks again for them).
    func live(now: ContinuousClock.Instant = .now) -> [InodeNumber] {
        leases.withLock { leases in
            leases = leases.filter { $0.value.expiry > now }
            return Array(leases.keys)
        }
    }

    /// The names leased in `directory`, with the version each was leased at.
    func leasedNames(in directory: InodeNumber) -> [[UInt8]: FileVersion] {
        leases.withLock { $0[directory]?.names ?? [:] }
    }

    /// `names` were taken back from the kernel: a later lookup of them is a new lease. Returns the names taken back
    /// at the round before, to take back once more.
    func withdraw(_ names: [[UInt8]], in directory: InodeNumber) -> [[UInt8]] {
        leases.withLock { leases in
            guard var lease = leases[directory] else { return [] }
            for name in names { lease.names.removeValue(forKey: name) }
            let again = lease.takenBack
            lease.takenBack = names
            leases[directory] = lease
            return again
        }
    }

    /// Ends the lease on `directory` (its listing failed, or the kernel forgot the directory); returns every name it
    /// had handed out or was taking back.
    @discardableResult
    func revoke(_ directory: InodeNumber) -> [[UInt8]] {
        leases.withLock { leases in
            guard let lease = leases.removeValue(forKey: directory) else { return [] }
            return Array(lease.names.keys) + lease.takenBack
        }
    }
}
