// An ETag as a server sends it (LIST, HEAD, PUT, copy and complete answers) is later sent back verbatim in If-Match
// and x-amz-copy-source-if-match. So it is read here, once: surrounding whitespace trimmed, and refused when it
// holds a control character (a CR or LF would end the header line early and let the server inject another; found
// by the list-objects and header-lines fuzz targets).

import ObjectStore

package enum ServerETag {
    /// The usable ETag in `text`; nil when there is none (absent or blank) or it cannot go back in a header.
    package static func read(_ text: String?) -> ETag? {
        guard let text else { return nil }
        // By index, not through reversed views: a listing reads one ETag per object.
        let bytes = text.utf8
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) })
        else { return nil }
        let trimmed = bytes[first...last]
        guard trimmed.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else { return nil }
        return ETag(trimmed.count == bytes.count ? text : String(decoding: trimmed, as: UTF8.self))
    }

    /// True when `text` holds an ETag, but one that `read` refuses.
    package static func isUnusable(_ text: String?) -> Bool {
        guard let text else { return false }
        return read(text) == nil && !text.utf8.allSatisfy(isSpace)
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
}
