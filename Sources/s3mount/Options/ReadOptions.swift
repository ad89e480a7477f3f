import ArgumentParser
import Foundation

/// How reads are fetched and how much memory they may hold.
struct ReadOptions: ParsableArguments {
    @Option(help: "Memory for cached blocks, read-ahead and transfers in flight (default: 1/16 of RAM or of the cgroup limit, 256M to 1G).", transform: ByteSize.parse)
    var memoryLimit: ByteSize?

    @Option(help: "Objects are fetched in aligned blocks of this size, one ranged GET each (1M to 64M; default 8M).", transform: ByteSize.parse)
    var blockSize = ByteSize(bytes: 8 << 20)

    @Option(help: "The most one open file reads ahead of its reader (default 256M).", transform: ByteSize.parse)
    var maxPrefetch = ByteSize(bytes: 256 << 20)

    @Flag(inversion: .prefixedNo, help: "Fetch the files of a directory ahead of a job that is reading through it (a data loader's epoch).")
    var datasetReadAhead = true

    @Option(help: ArgumentHelp(
        "A file of paths in the order the job will read them, one per line, relative to the mount (or absolute under the mountpoint): they are fetched ahead of the job from the moment the mount starts.",
        valueName: "file"))
    var prefetchManifest: String?

    @Option(help: "Bytes of blocks kept on disk under --cache-dir/blocks, shared by every s3mount using that directory; 0 turns the cache tier off (default: 10% of its filesystem, at most 32G).", transform: ByteSize.parse)
    var cacheSize: ByteSize?

    mutating func validate() throws {
        guard (1 << 20...64 << 20).contains(blockSize.bytes), blockSize.bytes % 4096 == 0 else {
            throw ValidationError("--block-size must be a multiple of 4K between 1M and 64M, got \(ByteSize.describe(blockSize.bytes))")
        }
        guard maxPrefetch.bytes <= 16 << 30 else {
            throw ValidationError("--max-prefetch must be at most 16G, got \(ByteSize.describe(maxPrefetch.bytes))")
        }
        if let memoryLimit, memoryLimit.bytes < 4 * blockSize.bytes {
            throw ValidationError(
                "--memory-limit must hold at least 4 blocks (\(ByteSize.describe(4 * blockSize.bytes)) with --block-size \(ByteSize.describe(blockSize.bytes))), got \(ByteSize.describe(memoryLimit.bytes))")
        }
    }

    /// The limit to use: the operator's, else 1/16 of the smaller of RAM and the cgroup's memory.max, between
    /// 256 MiB and 1 GiB. More does not read faster (the kernel's page cache keeps what was read; this memory is
    /// for read-ahead and blocks shared between readers), and memory that is reused stays warm: a sequential pass
    /// over a large file then recycles block buffers instead of touching new pages.
    var effectiveMemoryLimit: Int {
        if let memoryLimit { return memoryLimit.bytes }
        let physical = Int(ProcessInfo.processInfo.physicalMemory)
        let available = min(physical, Self.cgroupLimit() ?? physical)
        return min(1 << 30, max(256 << 20, available / 16))
    }

    /// cgroup v2 memory.max of this process (containers, systemd units); nil when unlimited or unknown.
    static func cgroupLimit() -> Int? {
        guard let membership = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8),
            let path = membership.split(separator: "\n").first(where: { $0.hasPrefix("0::") })?.dropFirst(3),
            let text = try? String(contentsOfFile: "/sys/fs/cgroup\(path)/memory.max", encoding: .utf8)
        else { return nil }
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
