/// One entry of a directory listing as the core hands it to the bridge.
public struct DirectoryEntry: Sendable, Hashable {
    public var name: String
    public var attributes: FileAttributes
    /// The offset the kernel passes back to continue after this entry.
    public var nextOffset: UInt64
    /// Seconds the kernel may cache this entry (readdirplus).
    public var ttl: Double
    /// "." or "..": listed, but no lookup is counted for them (readdirplus replies inode 0 for these).
    public var isDotEntry: Bool

    public init(name: String, attributes: FileAttributes, nextOffset: UInt64, ttl: Double, isDotEntry: Bool) {
        self.name = name
        self.attributes = attributes
        self.nextOffset = nextOffset
        self.ttl = ttl
        self.isDotEntry = isDotEntry
    }
}

/// Receives directory entries until its reply buffer is full. The bridge fills a FUSE buffer; tests fill an array.
public protocol DirectoryReplier {
    /// Adds `entry`; returns false, adding nothing, when the entry does not fit.
    mutating func add(_ entry: DirectoryEntry) -> Bool
}
