// The cache tier: blocks kept below the memory tier, in files under --cache-dir that outlive the process and the
// mount and that every s3mount on the node shares (DiskBlockCache). BlockFetcher asks it before it takes a fetch
// slot, claims the fetch among the processes sharing it (FetchClaim: a block another mount is fetching is waited
// for and read from the tier) and gives it each block its GET completed. BlockBuffer stays the unit of
// single-flight inside one process. Loads, reads and stores block on the disk: callers run them on
// BlockingIO.cacheTierReads and cacheTierWrites. openBlock looks up one name (BlockFetcher runs it on a read lane
// too, or beside a load); claimFetch does not wait.

#if canImport(Glibc)
import Glibc
#endif

/// A lower tier of the block cache.
protocol BlockTier: Sendable {
    /// Whether the tier has a file for the block `key` of `length` bytes (not whether it is good): a directory
    /// lookup, no data read.
    func mayHold(_ key: BlockKey, length: Int) -> Bool
    /// The tier's file for the block `key` of `length` bytes, open (not yet known to be good), or nil when it has
    /// none: a directory lookup, no data read.
    func openBlock(_ key: BlockKey, length: Int) -> TierBlockFile?
    /// Fills `buffer` (empty, not yet fetched) with its block from `file` if that is a good copy; false otherwise.
    func load(_ buffer: BlockBuffer, from file: TierBlockFile) -> Bool
    /// The bytes `bytes` of `file`'s block if the chunks they lie in are good (a random read smaller than a
    /// block); nil otherwise.
    func read(_ bytes: Range<Int>, of file: TierBlockFile) -> [UInt8]?
    /// Keeps a copy of `buffer`, which is complete, written on the tier's threads without anyone waiting for it;
    /// `claim` ends once it is written. Skipped (and counted) while the writes already queued hold too much memory:
    /// a slow or stuck disk must not hold the blocks that reads need.
    func storeLater(_ buffer: BlockBuffer, releasing claim: FetchClaim?)
    /// Claims the GET of `buffer`'s block among the processes sharing the tier, without waiting.
    func claimFetch(of buffer: BlockBuffer) -> FetchClaim.Outcome
}

/// A block file of the tier, open for reading; closed when the last holder lets go.
final class TierBlockFile: Sendable {
    let descriptor: Int32
    let path: String
    let key: BlockKey
    let length: Int

    init(descriptor: Int32, path: String, key: BlockKey, length: Int) {
        self.descriptor = descriptor
        self.path = path
        self.key = key
        self.length = length
    }

    deinit {
        _ = close(descriptor)
    }
}

/// Where the cache tier lives and how big it may grow (--cache-dir, --cache-size).
public struct CacheTierConfig: Sendable, Hashable {
    /// The tier's own directory (DIR/blocks).
    public var directory: String
    /// Bytes of block files the whole directory may hold, across every process using it.
    public var capacity: Int64
    /// Who serves the bucket (the endpoint set and the bucket name): blocks are only ever shared between mounts of
    /// the same bucket on the same endpoints.
    public var storeIdentity: String

    public init(directory: String, capacity: Int64, storeIdentity: String) {
        self.directory = directory
        self.capacity = capacity
        self.storeIdentity = storeIdentity
    }
}
