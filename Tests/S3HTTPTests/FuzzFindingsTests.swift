// What the parser fuzz targets (scripts/fuzz.sh) found, one test per finding, each failing (or crashing) without
// its fix. The inputs are also in the seed corpus, Fuzz/corpus/<target>/regression-*.

import ObjectStore
import Testing

@testable import S3HTTP

struct FuzzFindingsTests {
    private static func isMalformed(_ read: () throws(ClientError) -> Void) -> Bool {
        do {
            try read()
            return false
        } catch {
            return error.kind == .malformedResponse
        }
    }

    /// list-objects: FoundationXML trapped on an element name that is not UTF-8.
    @Test func aDocumentThatIsNotUTF8IsMalformedNotATrap() {
        #expect(Self.isMalformed { () throws(ClientError) in _ = try ListObjectsV2Reader.read([0x3C, 0xED, 0x29, 0x49, 0xEF]) })
        let badKey = Array("<ListBucketResult><Contents><Key>".utf8) + [0xFF] + Array("</Key></Contents></ListBucketResult>".utf8)
        #expect(Self.isMalformed { () throws(ClientError) in _ = try ListObjectsV2Reader.read(badKey) })
    }

    /// error-document: FoundationXML called strlen(NULL) on a processing instruction without data.
    @Test(arguments: [
        "<Error><?pi?><Code>x</Code></Error>", "<?pi?><Error><Code>x</Code></Error>", "<?xml?><Error><Code>x</Code></Error>",
        "<Error><Code>x</Code></Error><?pi?>",
    ])
    func aProcessingInstructionIsMalformedNotACrash(body: String) {
        #expect(Self.isMalformed { () throws(ClientError) in _ = try ErrorDocumentReader.read(Array(body.utf8)) })
    }

    @Test func theXMLDeclarationIsStillRead() throws {
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code></Error>"
        #expect(try ErrorDocumentReader.read(Array(body.utf8)).code == "NoSuchKey")
        #expect(try ErrorDocumentReader.read([0xEF, 0xBB, 0xBF] + Array(body.utf8)).code == "NoSuchKey")
    }

    /// timestamps: a day past the month's end was carried into the next month.
    @Test func impossibleDatesAreRefused() {
        for bad in ["0000-09-31T00:00:00.000Z", "2023-02-29T12:00:00Z", "2026-04-31T00:00:00.000Z"] {
            #expect(Timestamps.parseISO8601(bad) == nil, "\(bad)")
        }
        #expect(Timestamps.parseRFC1123("Thu, 31 Sep 2026 00:00:00 GMT") == nil)
        #expect(Timestamps.parseISO8601("2000-02-29T00:00:00Z") == 951_782_400)
        #expect(Timestamps.parseISO8601("2024-12-31T23:59:59.500Z") == 1_735_689_599.5)
    }

    /// timestamps: Last-Modified was split on spaces and colons, so malformed times were read.
    @Test func lastModifiedIsReadStrictly() {
        for bad in [
            "Rhu, 29 Feb 2024 23:59:59 GMT", "Thu, 29 Feb 2024 23::59:59 GMT", "Thu, +9 Feb 2024 23:59:59 GMT",
            "Thu,  29 Feb 2024 23:59:59 GMT", "Thu, 29 Feb 2024 23:59:59  GMT", "Thu 29 Feb 2024 23:59:59 GMT",
            "Thu, 29 Feb 02024 23:59:59 GMT", "Thu, 29 Feb 2024 23:59:+9 GMT",
        ] {
            #expect(Timestamps.parseRFC1123(bad) == nil, "\(bad)")
        }
        #expect(Timestamps.parseRFC1123("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
    }

    /// list-objects and header-lines: an ETag with a CR or LF went back verbatim into If-Match, ending the header
    /// line early: a server could inject a header into our next request.
    @Test func anETagThatCannotGoBackInAHeaderIsDropped() throws {
        let body = """
            <ListBucketResult><Contents><Key>a</Key><Size>1</Size><LastModified>2024-01-01T00:00:00Z</LastModified>\
            <ETag>"x"&#13;&#10;X-Injected: 1</ETag></Contents><Contents><Key>b</Key><Size>2</Size>\
            <LastModified>2024-01-01T00:00:00Z</LastModified><ETag>  "y"\t</ETag></Contents></ListBucketResult>
            """
        let page = try ListObjectsV2Reader.read(Array(body.utf8))
        #expect(page.objects.map(\.etag) == [ETag(""), ETag("\"y\"")])
        #expect(page.anomalies.map(\.key) == ["a"] && page.anomalies.allSatisfy { !$0.hidden })
        #expect(ServerETag.read("\"abc\"\r") == ETag("\"abc\""))
        for bad in ["\"a\"\rX: 1", "\"a\nb\"", "\"a\u{7F}\"", "\"a\0\""] {
            #expect(ServerETag.read(bad) == nil, "\(bad.debugDescription)")
        }
        #expect(ServerETag.read(nil) == nil && ServerETag.read("  ") == nil && !ServerETag.isUnusable("  "))
    }
}
