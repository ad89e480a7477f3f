// The INI dialect of ~/.aws/credentials and ~/.aws/config: [section] headers, `key = value` lines,
// `#`/`;` comment lines, keys case-insensitive. Indented lines continue a nested block (`s3 =` followed by
// indented settings) and are skipped: nothing s3mount reads lives in one.

struct INIFile: Equatable, Sendable {
    /// Sections by their name as written between the brackets, trimmed ("default", "profile dev").
    var sections: [String: [String: String]]

    /// Parses `text`; a malformed line is an error naming its line number.
    init(parsing text: String) throws(INIError) {
        sections = [:]
        var current: String?
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if rawLine.first == " " || rawLine.first == "\t" { continue }  // nested block value
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else { throw INIError(line: index + 1, reason: "bad section header") }
                let name = String(line.dropFirst().dropLast()).trimmingWhitespace()
                current = name
                sections[name, default: [:]] = sections[name] ?? [:]
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw INIError(line: index + 1, reason: "expected `key = value`")
            }
            guard let section = current else { throw INIError(line: index + 1, reason: "setting before any [section]") }
            let key = line[..<equals].trimmingWhitespace().lowercased()
            let value = line[line.index(after: equals)...].trimmingWhitespace()
            sections[section, default: [:]][key] = value
        }
    }
}

struct INIError: Error, Equatable, Sendable {
    var line: Int
    var reason: String
}

extension StringProtocol {
    fileprivate func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
