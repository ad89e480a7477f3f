// CacheTierSetup: the cache tier's place and size from --cache-dir and --cache-size. The default size is a tenth of
// the filesystem under the directory, at most 32 GiB; blocks go to DIR/blocks, beside the write-back staging area.
import Glibc
import S3FSCore

enum CacheTierSetup {
    static let defaultCeiling: Int64 = 32 << 30

    /// nil when --cache-size 0 turns the tier off.
    static func config(cacheDir: String, cacheSize: Int?, bucket: String, endpoints: [String]) -> CacheTierConfig? {
        if cacheSize == 0 { return nil }
        let directory = cacheDir + "/blocks"
        let capacity = cacheSize.map(Int64.init) ?? defaultCapacity(near: cacheDir)
        let identity = (endpoints.sorted() + [bucket]).joined(separator: "\n")
        return CacheTierConfig(directory: directory, capacity: capacity, storeIdentity: identity)
    }

    /// A tenth of the filesystem holding `path` (or its nearest existing parent), at most 32 GiB.
    private static func defaultCapacity(near path: String) -> Int64 {
        var candidate = path
        var status = statvfs()
        while unsafe statvfs(candidate, &status) != 0 {
            guard let slash = candidate.lastIndex(of: "/"), slash != candidate.startIndex else {
                candidate = "/"
                _ = unsafe statvfs(candidate, &status)
                break
            }
            candidate = String(candidate[..<slash])
        }
        let size = Int64(status.f_blocks) * Int64(status.f_frsize)
        return min(defaultCeiling, size / 10)
    }
}
