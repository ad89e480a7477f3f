// The inode table: every file and directory the kernel may name, with stable numbers and lookup counts.
//
// A (parent, name, kind) keeps its inode number for as long as the table holds it, so `ls -i` and hard-link-free
// tools such as tar see stable numbers; numbers are never reused within a mount. The kernel's lookups are
// counted exactly as FUSE requires (+1 per lookup or readdirplus entry, −n per forget) and an inode leaves the
// table when its count reaches zero. A name whose kind changed in S3 (a file replaced by a directory of the same
// name) gets a new number, so the kernel never sees one inode change type. So does a file whose object was
// replaced while a handle is open on the old version: the open file keeps its inode, with the old version's size,
// so the kernel neither cuts its reads short at the new size nor mixes versions, and new opens get the new
// version under the new number.
//
// The table has a budget (`limit`): a listing records every name it sees, but names the kernel never looked up
// (readdir without plus, or entries that did not fit a reply) are metadata only, and past the budget the oldest of
// them leave, so `ls` of a million keys leaves about `limit` inodes behind, not a million. An inode the kernel holds,
// an open file and a directory with children are never evicted (the table may exceed the budget by those). All
// state sits behind one lock (a SleepingLock: every FUSE thread takes it per request); nothing here awaits.
import ObjectStore

final class InodeTable: Sendable {
    private struct State {
        var inodes: [InodeNumber: Inode] = [:]
        /// Names by their UTF-8 bytes: String equality would merge "é" (NFC) and "e\u{301}" (NFD), two keys in S3.
        var children: [InodeNumber: [[UInt8]: InodeNumber]] = [:]
        var nextNumber: UInt64 = InodeNumber.root.rawValue + 1
        /// Inodes created without a kernel lookup or whose last one was taken back, oldest first (from
        /// `unheldHead` on): the candidates for eviction, checked again when their turn comes.
        var unheld: [InodeNumber] = []
        var unheldHead = 0
        var evictions: UInt64 = 0
        /// Names S3 said do not exist, until when that answer stands (the negative cache; the kernel keeps its own
        /// negative entries, but may drop them under memory pressure).
        var missing: [InodeNumber: [[UInt8]: ContinuousClock.Instant]] = [:]
        var missingCount = 0
        /// Names this mount changed in S3, and when: an upload of the file landed, or the name was unlinked,
        /// renamed away or onto, or found gone while the table held it. An answer from S3 asked for before then (a
        /// LIST or HEAD in flight meanwhile) shows the name as it was, and changes nothing about it (`answer`,
        /// `upsertListed`, `refresh`).
        var changedHere: [InodeNumber: [[UInt8]: ContinuousClock.Instant]] = [:]
        var changedHereCount = 0
    }

    /// The most names the negative cache holds; past it, it starts again empty. Also the most changed names
    /// remembered (past it, those changed more than `answerHorizon` ago are forgotten, and if that is not enough,
    /// all).
    static let maxMissing = 10_000
    /// How long before its answer a request to S3 may have been sent, for the table's purposes: a change older than
    /// this is forgotten first when `changedHere` is full.
    static let answerHorizon = Duration.seconds(600)

    let limit: Int
    private let state: SleepingLock<State>

    init(rootKey: String, rootMtime: Double, limit: Int = 100_000) {
        let root = Inode(
            number: .root, parent: .root, name: "", kind: .directory, key: rootKey, size: 0, mtime: rootMtime,
            etag: nil, lookupCount: 1, freshUntil: .now)
        self.limit = max(1, limit)
        state = SleepingLock(State(inodes: [.root: root]))
    }

    /// S3 says `name` is not in `parent`: lookups of it are answered "missing" for `ttl` seconds, unless the name
    /// is created meanwhile (any upsert of it ends the answer).
    func noteMissing(parent: InodeNumber, named name: String, ttl: Double) {
        guard ttl > 0 else { return }
        let until = ContinuousClock.now.advanced(by: .milliseconds(Int64(ttl * 1000)))
        state.withLock { state in
            if state.missingCount >= Self.maxMissing {
                state.missing = [:]
                state.missingCount = 0
            }
            if state.missing[parent, default: [:]].updateValue(until, forKey: Array(name.utf8)) == nil {
                state.missingCount += 1
            }
        }
    }

    /// Inodes evicted so far: a listing during which this changed may no longer be complete in the table.
    var evictions: UInt64 { state.withLock { $0.evictions } }

    func inode(_ number: InodeNumber) -> Inode? {
        state.withLock { $0.inodes[number] }
    }

    /// What the table says about `name` in directory `parent`, read under one lock (lookups come from every FUSE
    /// thread at once; taking the lock once per question made them queue on it).
    enum FreshLookup {
        case noDirectory
        case notADirectory(key: String)
        /// The child, its metadata fresh; one kernel lookup of it counted. `listed`: a fresh complete listing of the
        /// directory holds it.
        case fresh(Inode, listed: Bool)
        /// A fresh complete listing of the directory, or the negative cache, says there is no such name.
        case missing(directoryKey: String)
        /// S3 has to be asked.
        case unknown
    }

    /// The answer to a kernel lookup of `name` in `parent` if the table alone can give it, and whether the parent's
    /// listing runs out within `margin` (then it is worth listing again before it does).
    func freshLookup(parent: InodeNumber, name: [UInt8], margin: Duration) -> (FreshLookup, listingRunsOut: Bool) {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard let directory = state.inodes[parent] else { return (.noDirectory, false) }
            guard directory.kind == .directory else { return (.notADirectory(key: directory.key), false) }
            let listed = directory.listedUntil.map { $0 > now } ?? false
            let runsOut = listed && directory.listedUntil! - now < margin
            if let number = state.children[parent]?[name], let freshUntil = state.inodes[number]?.freshUntil, freshUntil > now {
                state.inodes[number]!.lookupCount += 1
                return (.fresh(state.inodes[number]!, listed: listed), runsOut)
            }
            if listed { return (.missing(directoryKey: directory.key), runsOut) }
            if let until = state.missing[parent]?[name], until > now { return (.missing(directoryKey: directory.key), false) }
            return (.unknown, false)
        }
    }

    /// The child `name` of `parent` if the table holds it with fresh metadata, counting one kernel lookup of it.
    func lookupFreshChild(of parent: InodeNumber, named name: String) -> Inode? {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard let number = state.children[parent]?[Array(name.utf8)], var inode = state.inodes[number],
                inode.freshUntil > now
            else { return nil }
            inode.lookupCount += 1
            state.inodes[number] = inode
            return inode
        }
    }

    /// The child `name` of `parent` whatever the freshness of its metadata (a staged file's size is local);
    /// counts one kernel lookup of it when `countLookup`.
    func child(of parent: InodeNumber, named name: String, countLookup: Bool) -> Inode? {
        state.withLock { state in
            guard let number = state.children[parent]?[Array(name.utf8)], var inode = state.inodes[number] else {
                return nil
            }
            if countLookup {
                inode.lookupCount += 1
                state.inodes[number] = inode
            }
            return inode
        }
    }

    /// Rename: the inode keeps its number under its new parent and name, and it (with, for a directory, every
    /// inode below it) takes the new key. An inode already at the new name is unlinked from it.
    func move(_ number: InodeNumber, to parent: InodeNumber, name: String, key newKey: String) {
        state.withLock { state in
            if state.missing[parent]?.removeValue(forKey: Array(name.utf8)) != nil { state.missingCount -= 1 }
            guard var inode = state.inodes[number] else { return }
            Self.noteChanged(parent: inode.parent, name: Array(inode.name.utf8), in: &state)
            Self.noteChanged(parent: parent, name: Array(name.utf8), in: &state)
            if let replaced = state.children[parent]?[Array(name.utf8)], replaced != number,
                let old = state.inodes[replaced]
            {
                Self.unlink(old, in: &state)
            }
            Self.unlink(inode, in: &state)
            let oldKey = inode.key
            inode.parent = parent
            inode.name = name
            inode.key = newKey
            state.inodes[number] = inode
            state.children[parent, default: [:]][Array(name.utf8)] = number
            guard inode.kind == .directory else { return }
            for (other, var descendant) in state.inodes where other != number && descendant.key.utf8.starts(with: oldKey.utf8) {
                descendant.key = newKey + String(decoding: descendant.key.utf8.dropFirst(oldKey.utf8.count), as: UTF8.self)
                state.inodes[other] = descendant
            }
        }
    }

    /// Records what this mount knows first-hand `entry` is (it made it) and returns its inode; counts one kernel
    /// lookup when `countLookup`.
    @discardableResult
    func upsert(parent: InodeNumber, entry: ResolvedEntry, ttl: Double, countLookup: Bool) -> Inode {
        let freshUntil = ContinuousClock.now.advanced(by: .milliseconds(Int64(ttl * 1000)))
        return state.withLock { state in
            Self.upsert(
                parent: parent, entry: entry, freshUntil: freshUntil, countLookup: countLookup, in: &state,
                limit: limit)
        }
    }

    /// Records what S3, asked at `askedAt`, says `entry` is, and returns its inode (one kernel lookup counted when
    /// `countLookup`). If this mount changed the name since (see State.changedHere), the answer is out of date: the
    /// inode the table holds under the name is returned as it is, or nil when it holds none (the name went).
    func answer(
        parent: InodeNumber, entry: ResolvedEntry, ttl: Double, countLookup: Bool, askedAt: ContinuousClock.Instant
    ) -> Inode? {
        let freshUntil = ContinuousClock.now.advanced(by: .milliseconds(Int64(ttl * 1000)))
        return state.withLock { state in
            Self.answer(
                parent: parent, entry: entry, freshUntil: freshUntil, countLookup: countLookup, askedAt: askedAt,
                in: &state, limit: limit)
        }
    }

    /// Every entry of a listing of `parent`, under one hold of the lock: a directory re-listed every TTL while a
    /// job opens its files took the lock once per name, against every lookup, open, getattr and release (waiters
    /// spinning in Mutex were 44% of the daemon's CPU samples in a writable epoch 2, a fifth of them behind listings).
    func upsertListed(parent: InodeNumber, entries: [ResolvedEntry], ttl: Double, askedAt: ContinuousClock.Instant) {
        let freshUntil = ContinuousClock.now.advanced(by: .milliseconds(Int64(ttl * 1000)))
        state.withLock { state in
            for entry in entries {
                _ = Self.answer(
                    parent: parent, entry: entry, freshUntil: freshUntil, countLookup: false, askedAt: askedAt,
                    in: &state, limit: limit)
            }
        }
    }

    private static func answer(
        parent: InodeNumber, entry: ResolvedEntry, freshUntil: ContinuousClock.Instant, countLookup: Bool,
        askedAt: ContinuousClock.Instant, in state: inout State, limit: Int
    ) -> Inode? {
        let nameBytes = Array(entry.name.utf8)
        guard let changed = state.changedHere[parent]?[nameBytes], askedAt <= changed else {
            return upsert(
                parent: parent, entry: entry, freshUntil: freshUntil, countLookup: countLookup, in: &state,
                limit: limit)
        }
        guard let number = state.children[parent]?[nameBytes], var existing = state.inodes[number] else { return nil }
        if countLookup { existing.lookupCount += 1 }
        state.inodes[number] = existing
        return existing
    }

    private static func upsert(
        parent: InodeNumber, entry: ResolvedEntry, freshUntil: ContinuousClock.Instant, countLookup: Bool,
        in state: inout State, limit: Int
    ) -> Inode {
        let nameBytes = Array(entry.name.utf8)
        if state.missing[parent]?.removeValue(forKey: nameBytes) != nil { state.missingCount -= 1 }
        let existing = state.children[parent]?[nameBytes].flatMap { state.inodes[$0] }
        var inode: Inode
        var created = false
        if let existing, existing.kind == entry.kind, !Self.replacesOpenVersion(existing, with: entry.etag) {
            inode = existing
            inode.size = entry.size
            inode.mtime = entry.mtime
            inode.etag = entry.etag
            inode.freshUntil = freshUntil
        } else {
            if let existing { Self.unlink(existing, in: &state) }
            let number = InodeNumber(state.nextNumber)
            state.nextNumber += 1
            inode = Inode(
                number: number, parent: parent, name: entry.name, kind: entry.kind, key: entry.key,
                size: entry.size, mtime: entry.mtime, etag: entry.etag, lookupCount: 0, freshUntil: freshUntil)
            state.children[parent, default: [:]][nameBytes] = number
            created = true
        }
        if countLookup { inode.lookupCount += 1 }
        state.inodes[inode.number] = inode
        if created, inode.lookupCount == 0 { Self.noteUnheld(inode.number, in: &state, limit: limit) }
        return inode
    }

    /// New metadata, from S3 asked at `askedAt`, for a file the kernel already holds, keeping its number. Nil when
    /// the inode is gone. An open file keeps the attributes of the version it has open, and a file this mount
    /// changed since `askedAt` the ones it has (see State.changedHere).
    func refresh(
        _ number: InodeNumber, from object: ObjectInfo, ttl: Double, askedAt: ContinuousClock.Instant
    ) -> Inode? {
        let freshUntil = ContinuousClock.now.advanced(by: .milliseconds(Int64(ttl * 1000)))
        return state.withLock { state in
            guard var inode = state.inodes[number] else { return nil }
            if Self.replacesOpenVersion(inode, with: object.etag) { return inode }
            if let changed = state.changedHere[inode.parent]?[Array(inode.name.utf8)], askedAt <= changed {
                return inode
            }
            inode.size = object.size
            inode.mtime = object.wholeSecondMtime
            inode.etag = object.etag
            inode.freshUntil = freshUntil
            state.inodes[number] = inode
            return inode
        }
    }

    /// A complete listing of directory `number`, taken at `instant`, was recorded: for `ttl` seconds from then it
    /// answers lookups.
    func markListed(_ number: InodeNumber, at instant: ContinuousClock.Instant, ttl: Double) {
        let until = instant.advanced(by: .milliseconds(Int64(ttl * 1000)))
        state.withLock { state in
            state.inodes[number]?.listedUntil = until
            state.inodes[number]?.wasListed = true
        }
    }

    /// The files of directory `number` with a known version and some bytes, in listing order, if the directory
    /// has ever been listed completely (nil otherwise: the table holds only the names looked up).
    func listedFiles(of number: InodeNumber) -> [ListedFile]? {
        let files = state.withLock { state -> [ListedFile]? in
            guard state.inodes[number]?.wasListed == true, let children = state.children[number] else { return nil }
            return children.compactMap { name, child -> ListedFile? in
                guard let inode = state.inodes[child], inode.kind == .file, inode.size > 0, let etag = inode.etag else {
                    return nil
                }
                return ListedFile(name: name, key: inode.key, size: inode.size, etag: etag)
            }
        }
        return files?.sorted { $0.name.lexicographicallyPrecedes($1.name) }
    }

    struct ListedFile: Sendable {
        var name: [UInt8]
        var key: String
        var size: UInt64
        var etag: ETag
    }

    /// What leases in `directory` are checked against: until when its last complete listing answers, and the version
    /// of each file child that listing (or a later lookup) found. A child missing here is gone from S3, or changed
    /// kind.
    func listedFileVersions(of directory: InodeNumber) -> (
        listedUntil: ContinuousClock.Instant?, files: [[UInt8]: EntryLeases.FileVersion]
    ) {
        state.withLock { state in
            guard let listedUntil = state.inodes[directory]?.listedUntil else { return (nil, [:]) }
            var files: [[UInt8]: EntryLeases.FileVersion] = [:]
            for (name, number) in state.children[directory] ?? [:] {
                guard let child = state.inodes[number], child.kind == .file, child.freshUntil >= listedUntil else { continue }
                files[name] = EntryLeases.FileVersion(number: number, etag: child.etag, size: child.size)
            }
            return (listedUntil, files)
        }
    }

    /// Whether a complete listing of directory `number` is fresh, so a name missing from it does not exist.
    func isFreshlyListed(_ number: InodeNumber) -> Bool {
        let now = ContinuousClock.now
        return state.withLock { state in state.inodes[number]?.listedUntil.map { $0 > now } ?? false }
    }

    /// Handles open on a file.
    func openCount(_ number: InodeNumber) -> Int {
        state.withLock { $0.inodes[number]?.openCount ?? 0 }
    }

    /// Counts one open handle of a file (+1) or one release (−1).
    func countOpen(_ number: InodeNumber, _ delta: Int) {
        state.withLock { $0.inodes[number]?.openCount += delta }
    }

    /// What an open of a file found (see `noteOpen`).
    struct OpenNote {
        /// An earlier open read the same version: the kernel's pages of the file may be kept.
        var keepsPages: Bool
        /// Before this open (see Inode.kernelHoldsNoPages).
        var kernelHeldNoPages: Bool
    }

    /// Counts an open of `etag` and records that the kernel's page cache now holds its pages.
    func noteOpen(_ number: InodeNumber, etag: ETag) -> OpenNote {
        state.withLock { state in
            let before = state.inodes[number]
            state.inodes[number]?.pageCacheETag = etag
            state.inodes[number]?.openCount += 1
            return OpenNote(
                keepsPages: before?.pageCacheETag == etag, kernelHeldNoPages: before?.kernelHoldsNoPages ?? false)
        }
    }

    /// The server says the version we hold is gone (412): the next open asks S3 again instead of trusting the TTL.
    func markStale(_ number: InodeNumber) {
        state.withLock { $0.inodes[number]?.freshUntil = .now }
    }

    /// A staged file's bytes reached S3 and its staged copy is about to go: the inode takes the size and mtime
    /// the staged copy showed (a stat between the copy's removal and the next HEAD must not see the size the file
    /// had when it was created), and is stale, so the next getattr or open asks S3 for its ETag; answers to requests
    /// sent before now (a listing under way) no longer replace it.
    func noteUploaded(_ number: InodeNumber, size: UInt64, mtime: Double) {
        state.withLock { state in
            state.inodes[number]?.size = size
            state.inodes[number]?.mtime = mtime
            state.inodes[number]?.freshUntil = .now
            guard let inode = state.inodes[number] else { return }
            Self.noteChanged(parent: inode.parent, name: Array(inode.name.utf8), in: &state)
        }
    }

    /// Takes back a lookup counted for an entry the kernel never received (it did not fit in the reply); unlike
    /// forget, the inode stays known, with its number.
    func uncountLookup(_ number: InodeNumber) {
        state.withLock { state in
            guard let count = state.inodes[number]?.lookupCount, count > 0 else { return }
            state.inodes[number]?.lookupCount = count - 1
            if count == 1 { Self.noteUnheld(number, in: &state, limit: limit) }
        }
    }

    /// The kernel dropped `count` lookups; the inode leaves the table at zero (the root never does).
    func forget(_ number: InodeNumber, count: UInt64) {
        state.withLock { state in
            guard number != .root, var inode = state.inodes[number] else { return }
            inode.lookupCount -= min(count, inode.lookupCount)
            if inode.lookupCount == 0 {
                Self.remove(inode, in: &state)
            } else {
                state.inodes[number] = inode
            }
        }
    }

    /// `name` left `parent` (this mount removed it, or S3 says it is gone): new lookups must ask again, and answers
    /// asked for before now do not bring it back. The inode itself stays until forgotten. A name the table does not
    /// hold changes nothing (a lookup of a name that never existed records nothing).
    func removeChild(of parent: InodeNumber, named name: String) {
        state.withLock { state in
            guard let number = state.children[parent]?[Array(name.utf8)], let inode = state.inodes[number] else {
                return
            }
            Self.noteChanged(parent: parent, name: Array(name.utf8), in: &state)
            if inode.lookupCount == 0 { Self.remove(inode, in: &state) } else { Self.unlink(inode, in: &state) }
        }
    }

    /// Records that this mount changed `name` in `parent` now (see State.changedHere), within `maxMissing` names.
    private static func noteChanged(parent: InodeNumber, name: [UInt8], in state: inout State) {
        let now = ContinuousClock.now
        if state.changedHereCount >= maxMissing {
            let horizon = now - answerHorizon
            state.changedHere = state.changedHere.compactMapValues { names in
                let recent = names.filter { $0.value > horizon }
                return recent.isEmpty ? nil : recent
            }
            state.changedHereCount = state.changedHere.values.reduce(0) { $0 + $1.count }
            if state.changedHereCount >= maxMissing {
                state.changedHere = [:]
                state.changedHereCount = 0
            }
        }
        if state.changedHere[parent, default: [:]].updateValue(now, forKey: name) == nil { state.changedHereCount += 1 }
    }

    /// Inodes held; for tests and metrics.
    var count: Int { state.withLock { $0.inodes.count } }

    /// Queues `number` as a candidate for eviction and evicts while the table is over `limit`.
    private static func noteUnheld(_ number: InodeNumber, in state: inout State, limit: Int) {
        state.unheld.append(number)
        while state.inodes.count > limit, state.unheldHead < state.unheld.count {
            let candidate = state.unheld[state.unheldHead]
            state.unheldHead += 1
            guard let inode = state.inodes[candidate], candidate != .root, inode.lookupCount == 0,
                inode.openCount == 0, state.children[candidate]?.isEmpty ?? true
            else { continue }
            remove(inode, in: &state)
            state.evictions += 1
        }
        // Drop the evicted head, and the entries of inodes that are gone or held now once they outnumber the table:
        // the queue stays within a small multiple of the table's size however long the mount lives.
        if state.unheldHead > 1024, state.unheldHead * 2 > state.unheld.count {
            state.unheld.removeFirst(state.unheldHead)
            state.unheldHead = 0
        }
        if state.unheld.count - state.unheldHead > 2 * state.inodes.count + 1024 {
            var seen: Set<InodeNumber> = []
            state.unheld = state.unheld[state.unheldHead...].filter { number in
                state.inodes[number]?.lookupCount == 0 && seen.insert(number).inserted
            }
            state.unheldHead = 0
        }
    }

    private static func replacesOpenVersion(_ inode: Inode, with etag: ETag?) -> Bool {
        inode.kind == .file && inode.openCount > 0 && inode.etag != etag
    }

    /// Drops an inode nobody holds, and with a directory the children it listed that nobody holds either.
    private static func remove(_ inode: Inode, in state: inout State) {
        unlink(inode, in: &state)
        state.inodes[inode.number] = nil
        guard let children = state.children.removeValue(forKey: inode.number) else { return }
        for child in children.values where state.inodes[child]?.lookupCount == 0 {
            state.inodes[child] = nil
        }
    }

    /// Takes `inode` out of its parent's names. The parent's listing no longer holds every name, so it stops
    /// answering lookups (a forgotten name must not look missing).
    private static func unlink(_ inode: Inode, in state: inout State) {
        let name = Array(inode.name.utf8)
        if state.children[inode.parent]?[name] == inode.number {
            state.children[inode.parent]?[name] = nil
            state.inodes[inode.parent]?.listedUntil = nil
        }
    }
}
