import Synchronization

/// An open directory: a snapshot of its entries, taken when reading starts at offset 0 (opendir, rewinddir), so
/// offsets stay valid while the listing is read in several replies.
final class DirectoryHandle: Sendable {
    let inode: InodeNumber
    private let snapshot = Mutex<[ResolvedEntry]?>(nil)

    init(inode: InodeNumber) { self.inode = inode }

    var entries: [ResolvedEntry]? { snapshot.withLock { $0 } }

    func replaceEntries(_ entries: [ResolvedEntry]) { snapshot.withLock { $0 = entries } }
}
