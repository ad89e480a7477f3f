/// What `stat` shows for one inode; the bridge turns it into `struct stat`.
public struct FileAttributes: Hashable, Sendable {
    public enum Kind: Hashable, Sendable { case file, directory }

    public var inode: InodeNumber
    public var kind: Kind
    public var size: UInt64
    /// Seconds since the Unix epoch; used for atime, mtime and ctime alike.
    public var mtime: Double
    /// Permission bits only (e.g. 0o644); the bridge adds the file-type bits.
    public var permissions: UInt32
    public var uid: UInt32
    public var gid: UInt32

    public init(
        inode: InodeNumber, kind: Kind, size: UInt64, mtime: Double, permissions: UInt32, uid: UInt32, gid: UInt32
    ) {
        self.inode = inode
        self.kind = kind
        self.size = size
        self.mtime = mtime
        self.permissions = permissions
        self.uid = uid
        self.gid = gid
    }

    public var linkCount: UInt32 { kind == .directory ? 2 : 1 }
    /// 512-byte blocks, as du(1) expects.
    public var blocks: UInt64 { (size + 511) / 512 }
}

/// What lookup and readdirplus answer: the inode and how long the kernel may cache it.
public struct EntryReply: Hashable, Sendable {
    public var attributes: FileAttributes
    /// Seconds the kernel may cache the name → inode mapping and the attributes.
    public var ttl: Double

    public init(attributes: FileAttributes, ttl: Double) {
        self.attributes = attributes
        self.ttl = ttl
    }
}

/// What open answers.
public struct OpenReply: Sendable {
    public var handle: UInt64
    /// Keep the kernel page cache from an earlier open: the object is unchanged (same ETag), or its pages are
    /// `pageData`.
    public var keepCache: Bool
    /// Closing a descriptor of this handle has something to make durable (it can write): the kernel must send a
    /// flush. Read-only handles have none, so their close need not reach the daemon (FOPEN_NOFLUSH).
    public var needsFlush: Bool
    /// The whole file, already in memory (prefetched), for the bridge to put in the kernel's page cache before it
    /// answers (FUSE notify_store): the reads that follow are served there and send no request. keepCache is then
    /// true (the pages must survive the open); if the kernel does not take them, the bridge answers it false.
    public var pageData: ReadData?

    public init(handle: UInt64, keepCache: Bool, needsFlush: Bool) {
        self.handle = handle
        self.keepCache = keepCache
        self.needsFlush = needsFlush
    }
}

/// What statfs answers. S3 has no capacity, so these are large constant figures, as other S3 mounts report.
public struct FileSystemStats: Hashable, Sendable {
    public var blockSize: UInt64 = 4096
    public var totalBlocks: UInt64 = 1 << 40
    public var freeBlocks: UInt64 = 1 << 40
    public var totalInodes: UInt64 = 1 << 32
    public var freeInodes: UInt64 = 1 << 32
    public var maxNameLength: UInt64 = 255

    public init() {}
}
