// The keeper behind EntryLeases (see there): it keeps the metadata TTL's promise for names the kernel holds longer.
// Every half TTL it lists again each leased directory whose listing runs out within a quarter TTL (so each is
// listed once per TTL), compares every leased name with what the directory's latest listing says, and hands the
// bridge what the kernel must drop: the entry of each name whose object changed or went, and the cached attributes
// (and, for a file still under its number, the pages) of its inode; names taken back are taken back once more at
// the next round. A directory whose listing fails loses its lease: its names are taken back, and lookups ask
// s3mount again, as without leases.
import ObjectStore

/// Something the kernel caches that s3mount takes back (FUSE's notify_inval_entry / notify_inval_inode).
public enum KernelInvalidation: Sendable, Hashable {
    /// The kernel's entry for `name` in directory `parent`: its next lookup comes to s3mount.
    case entry(parent: InodeNumber, name: [UInt8])
    /// The kernel's attributes of `inode`, and its cached pages too when `pages`.
    case inode(InodeNumber, pages: Bool)
}

extension FileSystem {
    /// Seconds the kernel may keep a leased name; nil when this mount gives no leases.
    public var leaseSeconds: Double? { leases?.seconds }

    /// Starts the lease keeper (nil on a mount without leases); it runs until the task is cancelled and hands each
    /// round's invalidations to `invalidate`.
    public func keepLeases(invalidate: @escaping @Sendable ([KernelInvalidation]) -> Void) -> Task<Void, Never>? {
        guard leases != nil else { return nil }
        let period = Duration.milliseconds(max(50, Int64(config.metadataTTL * 500)))
        return Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: period)
                // Listings that run out within half a round are renewed: each once per TTL, a few ms late at most.
                // (Within a whole round, the listing made at the last round would be due again: two per TTL.)
                let changes = await renewLeases(within: period / 2)
                if !changes.isEmpty {
                    logger.debug("taking back changed names from the kernel", metadata: ["count": "\(changes.count)"])
                    invalidate(changes)
                }
            }
        }
    }

    /// One round of the keeper: lists again (at most 4 at once) each leased directory whose listing runs out within
    /// `period`, and returns what the kernel must drop.
    func renewLeases(within period: Duration) async -> [KernelInvalidation] {
        guard let leases else { return [] }
        let deadline = ContinuousClock.now + period
        return await withTaskGroup(of: [KernelInvalidation].self) { group in
            var changes: [KernelInvalidation] = []
            var running = 0
            for directory in leases.live() {
                if running == 4, let found = await group.next() {
                    changes += found
                    running -= 1
                }
                group.addTask { await self.renewLease(of: directory, leases: leases, listingRunsOutBefore: deadline) }
                running += 1
            }
            for await found in group { changes += found }
            return changes
        }
    }

    private func renewLease(
        of directory: InodeNumber, leases: EntryLeases, listingRunsOutBefore deadline: ContinuousClock.Instant
    ) async -> [KernelInvalidation] {
        if (inodes.listedFileVersions(of: directory).listedUntil.map { $0 < deadline } ?? true) {
            let complete = (try? await listDirectory(directory, maxPages: walks.maxPages)) != nil
            guard complete else {
                return leases.revoke(directory).map { .entry(parent: directory, name: $0) }
            }
        }
        let current = inodes.listedFileVersions(of: directory).files
        var changes: [KernelInvalidation] = []
        var withdrawn: [[UInt8]] = []
        for (name, leased) in leases.leasedNames(in: directory) where current[name] != leased {
            changes.append(.entry(parent: directory, name: name))
            // Same number: the kernel's attributes and any pages are of the old version. A new number (a file
            // replaced while open, or gone): the old inode keeps its pages for those who have it open.
            changes.append(.inode(leased.number, pages: current[name]?.number == leased.number))
            withdrawn.append(name)
        }
        let withdrawnNames = Set(withdrawn)
        let again = leases.withdraw(withdrawn, in: directory).filter { !withdrawnNames.contains($0) }
        return changes + again.map { .entry(parent: directory, name: $0) }
    }
}
