// Which S3 keys can be POSIX names. A key is split on "/"; each segment becomes a name. A segment that cannot be a
// name (empty, from "//"; "." or ".."; longer than 255 bytes; containing NUL) hides the object or prefix that
// holds it: it never crashes the mount and never makes a path that leaves it.

enum PathNames {
    static let maxNameBytes = 255

    /// Why `name` cannot be a POSIX file name, or nil when it can.
    static func invalidReason(_ name: String) -> String? {
        if name.isEmpty { return "an empty path segment (\"//\" in the key)" }
        if name == "." || name == ".." { return "a \"\(name)\" path segment" }
        if name.utf8.count > maxNameBytes { return "a path segment over \(maxNameBytes) bytes" }
        if name.utf8.contains(0) { return "a NUL byte" }
        if name.utf8.contains(UInt8(ascii: "/")) { return "a \"/\" in the name" }
        return nil
    }

    static func isValid(_ name: String) -> Bool { invalidReason(name) == nil }
}
