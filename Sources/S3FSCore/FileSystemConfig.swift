/// Everything the core needs to know from the command line, as plain values (the core never sees ArgumentParser).
public struct FileSystemConfig: Sendable, Hashable {
    /// The key prefix mounted as the root: "" for the whole bucket, otherwise ending in "/".
    public var prefix: String
    public var uid: UInt32
    public var gid: UInt32
    public var fileMode: UInt32
    public var dirMode: UInt32
    public var readOnly: Bool
    /// How long metadata learnt from S3 is trusted, by the core and by the kernel's entry/attribute caches.
    public var metadataTTL: Double
    /// How long the kernel may keep names of files answered from a complete listing (see EntryLeases); 0, or not
    /// longer than the TTL: no leases.
    public var metadataLease: Double
    /// The inode table's budget for names the kernel does not hold (see InodeTable).
    public var maxCachedNames: Int
    /// The read pipeline's settings.
    public var reads: ReadPipelineConfig
    /// The write path's settings; nil refuses writes with EROFS.
    public var writes: WriteConfig?

    public init(
        prefix: String = "", uid: UInt32 = 0, gid: UInt32 = 0, fileMode: UInt32 = 0o644, dirMode: UInt32 = 0o755,
        readOnly: Bool = false, metadataTTL: Double = 1, metadataLease: Double = 0, maxCachedNames: Int = 100_000, reads: ReadPipelineConfig = ReadPipelineConfig(),
        writes: WriteConfig? = nil
    ) {
        self.prefix = Self.normalizedPrefix(prefix)
        self.uid = uid
        self.gid = gid
        self.fileMode = fileMode
        self.dirMode = dirMode
        self.readOnly = readOnly
        self.metadataTTL = metadataTTL
        self.metadataLease = metadataLease
        self.maxCachedNames = maxCachedNames
        self.reads = reads
        self.writes = writes
    }

    /// "a/b" and "a/b/" and "/a/b/" all mean the directory "a/b/"; "" and "/" mean the bucket root.
    public static func normalizedPrefix(_ prefix: String) -> String {
        let trimmed = prefix.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
        return trimmed.isEmpty ? "" : trimmed + "/"
    }
}
