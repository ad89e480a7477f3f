#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

/// S3 keys are bytes: names that Swift's String calls equal (canonically equivalent NFC and NFD forms) are two
/// different objects and must stay two different files.
@Suite struct UnicodeNamesTests {
    static let composed = "caf\u{e9}"  // NFC: "é" is one scalar
    static let decomposed = "cafe\u{301}"  // NFD: "e" + combining acute accent
    let store = MockObjectStore()

    init() {
        store.put(Self.composed, "composed")
        store.put(Self.decomposed, "decomposed")
        store.put("d/\u{301}leading-combining-mark", "mark")
        store.put("d/with space and \u{65e5}\u{672c}", "cjk")
    }

    @Test func canonicallyEquivalentNamesAreTwoEntries() async throws {
        let fs = makeFileSystem(store)
        let files = try await readWholeDirectory(fs, .root).filter { !$0.isDotEntry && $0.attributes.kind == .file }
        #expect(files.map { Array($0.name.utf8) } == [Array(Self.decomposed.utf8), Array(Self.composed.utf8)])
        #expect(Set(files.map(\.attributes.inode)).count == 2)
    }

    @Test func canonicallyEquivalentNamesReadTheirOwnObjects() async throws {
        let fs = makeFileSystem(store)
        let composed = try await fs.lookup(parent: .root, name: Self.composed)
        let decomposed = try await fs.lookup(parent: .root, name: Self.decomposed)
        #expect(composed.attributes.inode != decomposed.attributes.inode)
        #expect(try await readWholeFile(fs, Self.composed) == Array("composed".utf8))
        #expect(try await readWholeFile(fs, Self.decomposed) == Array("decomposed".utf8))
    }

    @Test func aNameStartingWithACombiningMarkIsListed() async throws {
        let fs = makeFileSystem(store)
        let d = try await fs.lookup(parent: .root, name: "d").attributes.inode
        let names = try await readWholeDirectory(fs, d).map { Array($0.name.utf8) }
        #expect(names.contains(Array("\u{301}leading-combining-mark".utf8)))
        #expect(names.contains(Array("with space and \u{65e5}\u{672c}".utf8)))
        #expect(try await readWholeFile(fs, parent: d, "\u{301}leading-combining-mark") == Array("mark".utf8))
    }
}
