// Which S3 keys can be POSIX names. A key is split on "/"; each segment becomes a name. A segment that cannot be a
// name (empty, from "//"; "." or ".."; longer than 255 bytes; containing NUL) or should not be one (a control
// character: an escape sequence in a name would drive the terminal of whoever lists it) hides the object or prefix
// that holds it: it never crashes the mount and never makes a path that leaves it. Keys that are not UTF-8 never
// get here: the store leaves them out of its pages (ListPage.anomalies).

enum PathNames {
    static let maxNameBytes = 255

    /// Why `name` cannot be a POSIX file name, or nil when it can.
    static func invalidReason(_ name: String) -> String? {
        if name.isEmpty { return "an empty path segment (\"//\" in the key)" }
        if name == "." || name == ".." { return "a \"\(name)\" path segment" }
        if name.utf8.count > maxNameBytes { return "a path segment over \(maxNameBytes) bytes" }
        // One pass over the bytes (every lookup and every listed name comes here).
        var (nul, slash, control) = (false, false, false)
        var previous: UInt8 = 0
        for byte in name.utf8 {
            nul = nul || byte == 0
            slash = slash || byte == UInt8(ascii: "/")
            control = control || byte < 0x20 || byte == 0x7F || (previous == 0xC2 && (0x80...0x9F).contains(byte))
            previous = byte
        }
        if nul { return "a NUL byte" }
        if slash { return "a \"/\" in the name" }
        return control ? "a control character" : nil
    }

    /// `key` for a log line: control characters written as \u{1B}, so a key cannot drive the terminal showing the log.
    static func printable(_ key: String) -> String {
        guard key.unicodeScalars.contains(where: isControl) else { return key }
        var out = String.UnicodeScalarView()
        for scalar in key.unicodeScalars {
            if isControl(scalar) {
                out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// C0 controls (tab, newline, escape, …), DEL and the C1 controls: Unicode's general category Cc. In UTF-8 the
    /// C1 controls (U+0080–U+009F) are the byte 0xC2 followed by 0x80–0x9F, which `invalidReason` looks for.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    static func isValid(_ name: String) -> Bool { invalidReason(name) == nil }
}
