import ArgumentParser
import Foundation
import Glibc
import S3FSCore

/// How written files reach S3.
struct WriteOptions: ParsableArguments {
    @Option(help: "writeback: close() returns once the data is durable on local disk and the upload follows; sync: close() waits for S3 too (default writeback).")
    var writeMode: WriteConfig.Mode = .writeback

    @Option(help: "Where written files are staged before upload, with their journal (default /var/cache/s3mount for root, else $XDG_CACHE_HOME/s3mount or ~/.cache/s3mount).")
    var cacheDir: String?

    @Option(help: "Multipart part size of uploads; parts grow beyond 1,000 so 10,000 hold 5 TiB (5M to 5G; default 8M).", transform: ByteSize.parse)
    var partSize = ByteSize(bytes: 8 << 20)

    @Option(help: "Upload requests in flight at once (default 8).")
    var uploadConcurrency = 8

    @Option(help: "Upload bandwidth limit in bytes per second, e.g. 100M (default: unlimited).", transform: ByteSize.parse)
    var uploadBandwidth: ByteSize?

    @Option(help: "Seconds unmount waits for pending uploads before leaving them for the next mount (default 60).")
    var drainTimeout: Double = 60

    mutating func validate() throws {
        guard (5 << 20...5 << 30).contains(partSize.bytes) else {
            throw ValidationError("--part-size must be between 5M and 5G, got \(ByteSize.describe(partSize.bytes))")
        }
        guard (1...256).contains(uploadConcurrency) else {
            throw ValidationError("--upload-concurrency must be between 1 and 256, got \(uploadConcurrency)")
        }
        if let uploadBandwidth, uploadBandwidth.bytes < 64 << 10 {
            throw ValidationError("--upload-bandwidth must be at least 64K (bytes per second), got \(ByteSize.describe(uploadBandwidth.bytes))")
        }
        guard drainTimeout >= 0 else { throw ValidationError("--drain-timeout must not be negative, got \(drainTimeout)") }
        if cacheDir?.isEmpty == true { throw ValidationError("--cache-dir is empty; give a directory") }
    }

    /// The cache root: --cache-dir, else the per-user default.
    var effectiveCacheDir: String {
        if let cacheDir { return cacheDir }
        if getuid() == 0 { return "/var/cache/s3mount" }
        let environment = ProcessInfo.processInfo.environment
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/s3mount" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.cache/s3mount"
    }

    /// This mount's staging directory: one per bucket, prefix and endpoint set, so a journal is only ever replayed
    /// against the bucket it was written for.
    func config(bucket: String, prefix: String, endpoints: [String]) -> WriteConfig {
        let identity = ([bucket, prefix] + endpoints.sorted()).joined(separator: "\n")
        let hash = identity.utf8.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
        let readable = bucket.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" }
        let directory = "\(effectiveCacheDir)/writeback/\(String(readable))-\(String(hash, radix: 16))"
        return WriteConfig(
            mode: writeMode, stagingDirectory: directory, partSize: UInt64(partSize.bytes),
            uploadConcurrency: uploadConcurrency, uploadBandwidth: uploadBandwidth.map { UInt64($0.bytes) },
            drainTimeout: drainTimeout)
    }
}

extension WriteConfig.Mode: ExpressibleByArgument {}
