/// How reads are fetched: block size, read-ahead, memory and concurrency bounds (--block-size, --max-prefetch,
/// --memory-limit, --max-connections, --prefetch-manifest).
public struct ReadPipelineConfig: Sendable, Hashable {
    /// Objects are fetched in aligned blocks of this many bytes, each one ranged GET.
    public var blockSize: Int
    /// The most a single handle reads ahead of its reader.
    public var maxPrefetch: Int
    /// The one bound on cached blocks, read-ahead and buffers in flight.
    public var memoryLimit: Int
    /// GETs in flight at once, across the mount.
    public var maxConcurrentFetches: Int
    /// What the kernel itself reads ahead (the mount's read_ahead_kb); read-ahead starts beyond it.
    public var kernelReadAhead: Int
    /// Whether a job reading many files of a directory has the rest of them fetched ahead (DatasetReadAhead).
    public var datasetReadAhead: Bool
    /// Paths (relative to the mount's root) in the order the job will read them, fetched ahead of it
    /// (--prefetch-manifest); empty for none.
    public var prefetchManifest: [String]
    /// The cache tier under --cache-dir (nil: off).
    public var cacheTier: CacheTierConfig?

    public init(
        blockSize: Int = 8 << 20, maxPrefetch: Int = 256 << 20, memoryLimit: Int = 1 << 30,
        maxConcurrentFetches: Int = 32, kernelReadAhead: Int = 4 << 20, datasetReadAhead: Bool = true,
        prefetchManifest: [String] = [], cacheTier: CacheTierConfig? = nil
    ) {
        self.cacheTier = cacheTier
        self.datasetReadAhead = datasetReadAhead
        self.prefetchManifest = prefetchManifest
        self.blockSize = blockSize
        self.maxPrefetch = maxPrefetch
        self.memoryLimit = memoryLimit
        self.maxConcurrentFetches = maxConcurrentFetches
        self.kernelReadAhead = kernelReadAhead
    }
}
