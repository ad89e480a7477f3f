// XMLText: writes strings into XML element content the way a server does, for the recipes of the XML targets.

enum XMLText {
    /// `text` escaped for element content. Carriage returns are written as a character reference (a literal one
    /// would be normalised to a line feed by any XML parser); characters XML 1.0 cannot carry must be removed first.
    static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\r": out += "&#13;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `text` without the characters XML 1.0 cannot carry (most C0 controls, U+FFFE, U+FFFF).
    static func representable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter(isXMLCharacter)))
    }

    private static func isXMLCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: true
        default: false
        }
    }

    /// `<name>escaped text</name>`.
    static func element(_ name: String, _ text: String) -> String { "<\(name)>\(escaped(text))</\(name)>" }
}
