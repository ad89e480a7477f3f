// OpenlessHandles: the file handles of a mount that answers no open.
//
// On a read-only mount the FUSE bridge tells the kernel that opens need no answer (FUSE's no_open): a training
// job's open and close of each sample then cost no request at all, and the kernel keeps every file's pages across
// opens. Reads still arrive, with no handle; each file gets one implicit handle at its first read, holding what an
// open would have held (the object version read, the access pattern, the read-ahead window), shared by every reader
// of that inode and kept until the kernel forgets the inode. While it exists it counts as an open, so a new ETag
// found by a lookup gets the name a new inode (as for any open file) and the kernel never mixes pages of two
// versions under one inode. O_DIRECT readers get a handle of their own (their reads do not stay in the page cache).

final class OpenlessHandles: Sendable {
    private struct Key: Hashable {
        let inode: InodeNumber
        let direct: Bool
    }

    private let handles = SleepingLock<[Key: UInt64]>([:])

    /// The handle reads of `inode` share, if its first read made one.
    func existing(of inode: InodeNumber, direct: Bool) -> UInt64? {
        handles.withLock { $0[Key(inode: inode, direct: direct)] }
    }

    /// The handle reads of `inode` share, made by `open` at the first read.
    func handle(
        of inode: InodeNumber, direct: Bool, open: () throws(FSError) -> UInt64
    ) throws(FSError) -> UInt64 {
        try handles.withLock { handles throws(FSError) in
            let key = Key(inode: inode, direct: direct)
            if let known = handles[key] { return known }
            let opened = try open()
            handles[key] = opened
            return opened
        }
    }

    /// The handles of an inode the kernel forgot (to release).
    func remove(_ inode: InodeNumber) -> [UInt64] {
        handles.withLock { handles in
            [true, false].compactMap { handles.removeValue(forKey: Key(inode: inode, direct: $0)) }
        }
    }

    var count: Int { handles.withLock { $0.count } }
}
