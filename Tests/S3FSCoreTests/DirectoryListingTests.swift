import ObjectStore
@testable import S3FSCore
import Testing

@Suite struct DirectoryListingTests {
    static func object(_ key: String) -> ObjectInfo {
        ObjectInfo(key: key, size: UInt64(key.utf8.count), lastModified: 42, etag: ETag("\"\(key)\""))
    }

    static func listing(_ directory: String, prefixes: [String] = [], objects: [String]) -> DirectoryListing {
        DirectoryListing(
            directoryKey: directory,
            page: ListPage(objects: objects.map(object), commonPrefixes: prefixes, nextContinuationToken: nil),
            directoryMtime: 7)
    }

    @Test func commonPrefixesAreDirectoriesAndObjectsAreFiles() {
        let listing = Self.listing("d/", prefixes: ["d/sub/"], objects: ["d/f"])
        #expect(listing.entries.map(\.name) == ["f", "sub"])
        let sub = listing.entries[1]
        #expect(sub.kind == .directory && sub.key == "d/sub/" && sub.mtime == 7 && sub.etag == nil)
        let file = listing.entries[0]
        #expect(file.kind == .file && file.key == "d/f" && file.size == 3 && file.mtime == 42)
        #expect(listing.hidden.isEmpty)
    }

    @Test func theDirectoryMarkerIsNotAnEntry() {
        let listing = Self.listing("d/", objects: ["d/", "d/f"])
        #expect(listing.entries.map(\.name) == ["f"])
        #expect(listing.hidden.isEmpty)
    }

    @Test func aDirectoryWinsOverAFileOfTheSameName() {
        let listing = Self.listing("", prefixes: ["a/"], objects: ["a", "b"])
        #expect(listing.entries.map(\.name) == ["a", "b"])
        #expect(listing.entries[0].kind == .directory)
        #expect(listing.hidden.map(\.key) == ["a"])
    }

    @Test func entriesAreSortedByUTF8Bytes() {
        let names = ["b", "B", "\u{e9}", "a", "Z", "~", "10", "9", "a b", "\u{1F600}", "\u{ff5e}", "_"]
        let listing = Self.listing("", objects: names)
        #expect(
            listing.entries.map(\.name) == [
                "10", "9", "B", "Z", "_", "a", "a b", "b", "~", "\u{e9}", "\u{ff5e}", "\u{1F600}",
            ])
    }

    @Test func invalidSegmentsAreHiddenWithAReason() {
        let listing = Self.listing(
            "", prefixes: ["/", "./", "../", String(repeating: "p", count: 256) + "/", "ok/"],
            objects: [".", "..", String(repeating: "f", count: 256), String(repeating: "f", count: 255)])
        #expect(listing.entries.map(\.name) == [String(repeating: "f", count: 255), "ok"])
        #expect(listing.hidden.count == 7)
        #expect(listing.hidden.allSatisfy { !$0.reason.isEmpty })
    }

    @Test func keysOutsideTheDirectoryAreIgnored() {
        let listing = Self.listing("d/", prefixes: ["e/x/"], objects: ["e/f", "d/g"])
        #expect(listing.entries.map(\.name) == ["g"])
    }
}
