import ObjectStore
@testable import S3FSCore
import Testing

/// DirectoryStream alone: pages in, entries out, one page at a time.
@Suite struct DirectoryStreamTests {
    static func object(_ key: String) -> ObjectInfo { ObjectInfo(key: key, size: 1, lastModified: 5, etag: ETag("\"e\"")) }

    static func page(_ keys: [String], prefixes: [String] = [], token: String?) -> ListPage {
        ListPage(objects: keys.map(object), commonPrefixes: prefixes, nextContinuationToken: token)
    }

    static func names(_ batch: DirectoryStream.Batch) -> [String] { batch.entries.map(\.name) }

    @Test func eachPageYieldsItsNamesBeforeTheNextPageIsRead() throws {
        var stream = DirectoryStream(directoryKey: "d/", directoryMtime: 0, staged: [])
        #expect(stream.nextRequest?.continuationToken == nil)
        let first = try stream.take(Self.page(["d/a", "d/b", "d/c"], token: "t1"))
        // "c" waits: "d/c/" sorts after everything this page reached, so the next page could make "c" a directory.
        #expect(Self.names(first) == ["a", "b"])
        #expect(stream.nextRequest?.continuationToken == "t1")
        let last = try stream.take(Self.page(["d/e"], prefixes: ["d/f/"], token: nil))
        #expect(Self.names(last) == ["c", "e", "f"])
        #expect(stream.isComplete && stream.nextRequest == nil)
    }

    @Test func aFileWhoseDirectoryComesOnALaterPageIsHiddenAndShownOnce() throws {
        var stream = DirectoryStream(directoryKey: "", directoryMtime: 0, staged: [])
        // "x" < "x.txt" < "x/": the file and the directory of one name are two pages apart.
        let first = try stream.take(Self.page(["a", "x"], token: "t1"))
        let second = try stream.take(Self.page(["x.txt"], token: "t2"))
        let third = try stream.take(Self.page([], prefixes: ["x/"], token: nil))
        let shown = [first, second, third].flatMap { $0.entries }
        #expect(shown.map(\.name).sorted() == ["a", "x", "x.txt"])
        #expect(shown.first { $0.name == "x" }?.kind == .directory)
        #expect(third.hidden.map(\.key) == ["x"])
    }

    @Test func aHeldFileIsShownOnceAPageReachesPastItsDirectoryName() throws {
        var stream = DirectoryStream(directoryKey: "", directoryMtime: 0, staged: [])
        #expect(Self.names(try stream.take(Self.page(["m"], token: "t1"))) == [])
        #expect(Self.names(try stream.take(Self.page(["m.1", "n"], token: "t2"))) == ["m", "m.1"])
    }

    @Test func stagedFilesNoPageNamedComeLastAndListedOnesOnce() throws {
        let staged = [
            ResolvedEntry(name: "new", kind: .file, key: "d/new", size: 3, mtime: 9, etag: nil),
            ResolvedEntry(name: "b", kind: .file, key: "d/b", size: 3, mtime: 9, etag: nil),
        ]
        var stream = DirectoryStream(directoryKey: "d/", directoryMtime: 0, staged: staged)
        let first = try stream.take(Self.page(["d/a", "d/b"], token: "t1"))
        let last = try stream.take(Self.page(["d/c"], token: nil))
        let shown = first.entries + last.entries
        #expect(shown.map(\.name) == ["a", "b", "c", "new"])
        #expect(shown.first { $0.name == "b" }?.etag != nil, "the listed version of b, not the staged one")
    }

    @Test func aRepeatedContinuationTokenEndsTheListingWithAnError() throws {
        var stream = DirectoryStream(directoryKey: "loop/", directoryMtime: 0, staged: [])
        _ = try stream.take(Self.page(["loop/a"], token: "same"))
        #expect(throws: ObjectStoreError.self) { try stream.take(Self.page(["loop/a"], token: "same")) }
    }

    @Test func heldFilesNeverExceedTheCap() throws {
        var stream = DirectoryStream(directoryKey: "", directoryMtime: 0, staged: [], maxHeld: 2)
        // Every name extends the one before, so each file waits for a page that never passes it.
        var shown: [String] = []
        var name = "a"
        for token in 1...5 {
            shown += Self.names(try stream.take(Self.page([name], token: "t\(token)")))
            name += "."
        }
        #expect(shown == ["a", "a.", "a.."], "only the newest two wait")
        shown += Self.names(try stream.take(Self.page([], token: nil)))
        #expect(shown == ["a", "a.", "a..", "a...", "a...."])
    }
}
