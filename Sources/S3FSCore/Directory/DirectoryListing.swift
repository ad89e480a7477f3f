// Turns ListObjectsV2 pages (delimiter "/") into the names of one directory.
//
// Common prefixes become directories and objects become files. The directory's own marker object ("dir/") is
// not an entry. A file and a directory with the same name ("a" beside "a/…"): the directory wins and the file is
// hidden. Keys whose segment cannot be a POSIX name are hidden too, and so are the entries the store left out of
// the page (ListPage.anomalies: keys that are not UTF-8); `hidden` says which and why, and `shownWithStandIns` which
// entries are shown with a stand-in value (a LastModified that is not a time), so the caller can warn once per key.
// Entries come out sorted by the bytes of their names, as S3 sorts keys.
import ObjectStore

struct DirectoryListing: Sendable {
    struct KeyNote: Sendable, Hashable {
        var key: String
        var reason: String
    }

    private(set) var entries: [ResolvedEntry] = []
    private(set) var hidden: [KeyNote] = []
    private(set) var shownWithStandIns: [KeyNote] = []

    /// - Parameters:
    ///   - directoryKey: the directory's prefix ("" or ending in "/").
    ///   - directoryMtime: the time shown for subdirectories (S3 has none for prefixes).
    init(directoryKey: String, page: ListPage, directoryMtime: Double) {
        // Keys are compared and cut as UTF-8 bytes, as S3 does: String's hasPrefix, count and == work on
        // Characters, which would drop "d/\u{301}x" from "d/" and merge NFC and NFD spellings of one name.
        var byName: [[UInt8]: ResolvedEntry] = [:]
        for anomaly in page.anomalies {
            let note = KeyNote(key: anomaly.key, reason: anomaly.problem)
            if anomaly.hidden { hidden.append(note) } else { shownWithStandIns.append(note) }
        }
        for prefix in page.commonPrefixes {
            guard let name = Self.name(of: prefix, in: directoryKey, dropLast: 1) else { continue }
            if let reason = PathNames.invalidReason(name) {
                hidden.append(KeyNote(key: prefix, reason: reason))
                continue
            }
            byName[Array(name.utf8)] = .directory(name: name, prefix: prefix, mtime: directoryMtime)
        }
        for object in page.objects {
            guard let name = Self.name(of: object.key, in: directoryKey, dropLast: 0), !name.isEmpty else { continue }
            let nameBytes = Array(name.utf8)
            if let reason = PathNames.invalidReason(name) {
                hidden.append(KeyNote(key: object.key, reason: reason))
            } else if byName[nameBytes] != nil {
                hidden.append(KeyNote(key: object.key, reason: "a directory of the same name exists"))
            } else {
                byName[nameBytes] = .file(name: name, object: object)
            }
        }
        // Sorted on the byte arrays already made for the index (cheaper than comparing through String's views).
        entries = byName.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map(\.value)
    }

    /// The part of `key` after `directoryKey` less its last `dropLast` bytes, or nil when `key` is not under it.
    private static func name(of key: String, in directoryKey: String, dropLast: Int) -> String? {
        guard key.utf8.starts(with: directoryKey.utf8), key.utf8.count >= directoryKey.utf8.count + dropLast else {
            return nil
        }
        return String(decoding: key.utf8.dropFirst(directoryKey.utf8.count).dropLast(dropLast), as: UTF8.self)
    }
}
