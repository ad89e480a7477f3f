// Turns ListObjectsV2 pages (delimiter "/") into the names of one directory.
//
// Common prefixes become directories and objects become files. The directory's own marker object ("dir/") is
// not an entry. A file and a directory with the same name ("a" beside "a/…"): the directory wins and the file is
// hidden. Keys whose segment cannot be a POSIX name are hidden too; `hidden` says which and why, so the caller
// can warn once. Entries come out sorted by the bytes of their names, as S3 sorts keys.
import ObjectStore

struct DirectoryListing: Sendable {
    struct HiddenKey: Sendable, Hashable {
        var key: String
        var reason: String
    }

    private(set) var entries: [ResolvedEntry] = []
    private(set) var hidden: [HiddenKey] = []

    /// - Parameters:
    ///   - directoryKey: the directory's prefix ("" or ending in "/").
    ///   - directoryMtime: the time shown for subdirectories (S3 has none for prefixes).
    init(directoryKey: String, page: ListPage, directoryMtime: Double) {
        var byName: [String: ResolvedEntry] = [:]
        for prefix in page.commonPrefixes where prefix.hasPrefix(directoryKey) && prefix.count > directoryKey.count {
            let name = String(prefix.dropFirst(directoryKey.count).dropLast())
            if let reason = PathNames.invalidReason(name) {
                hidden.append(HiddenKey(key: prefix, reason: reason))
                continue
            }
            byName[name] = .directory(name: name, prefix: prefix, mtime: directoryMtime)
        }
        for object in page.objects where object.key.hasPrefix(directoryKey) && object.key != directoryKey {
            let name = String(object.key.dropFirst(directoryKey.count))
            if let reason = PathNames.invalidReason(name) {
                hidden.append(HiddenKey(key: object.key, reason: reason))
            } else if byName[name] != nil {
                hidden.append(HiddenKey(key: object.key, reason: "a directory of the same name exists"))
            } else {
                byName[name] = .file(name: name, object: object)
            }
        }
        entries = byName.values.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }
}
