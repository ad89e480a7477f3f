@testable import S3FSCore
import Testing

@Suite struct PathNamesTests {
    @Test(arguments: ["", ".", "..", String(repeating: "x", count: 256), "a\u{0}b", "a/b"])
    func invalidNamesAreRefused(name: String) {
        #expect(!PathNames.isValid(name))
        #expect(PathNames.invalidReason(name) != nil)
    }

    @Test(arguments: [
        "a", "...", ".hidden", "..x", "with space", " leading", "trailing ", "caf\u{e9}", "\u{65e5}\u{672c}",
        "\u{1F600}", String(repeating: "x", count: 255),
        // 85 three-byte characters: 255 bytes, though only 85 characters.
        String(repeating: "\u{65e5}", count: 85),
    ])
    func validNamesAreAccepted(name: String) {
        #expect(PathNames.isValid(name))
    }

    @Test func lengthIsCountedInBytesNotCharacters() {
        // 86 three-byte characters are 258 bytes: too long, though only 86 characters.
        #expect(!PathNames.isValid(String(repeating: "\u{65e5}", count: 86)))
        #expect(PathNames.isValid(String(repeating: "\u{e9}", count: 127)))  // 254 bytes
        #expect(!PathNames.isValid(String(repeating: "\u{e9}", count: 128)))  // 256 bytes
    }

    @Test func controlCharactersAreExactlyUnicodesControlCategory() {
        // The check works on UTF-8 bytes; every scalar of the first planes (all C0/C1 controls and their neighbours,
        // two- three- and four-byte encodings) must be judged as Unicode's general category says.
        let scalars = (1...0x3000).compactMap(Unicode.Scalar.init) + [Unicode.Scalar(0x1F600)!, Unicode.Scalar(0x10FFFF)!]
        for scalar in scalars where scalar != "/" {
            let name = "a\(Character(scalar))b"
            let isControl = scalar.properties.generalCategory == .control
            #expect((PathNames.invalidReason(name) == "a control character") == isControl, "U+\(String(scalar.value, radix: 16))")
        }
        #expect(PathNames.printable("x\u{85}y\u{1B}") == "x\\u{85}y\\u{1B}")
    }
}
