// ListObjectsV2 response parsing: pages, prefixes, url-encoded keys, and documents that must be rejected.

import ObjectStore
import Testing

@testable import S3HTTP

struct ListObjectsV2ReaderTests {
    static func document(_ body: String, encoded: Bool = false) -> [UInt8] {
        Array(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name>\
            \(encoded ? "<EncodingType>url</EncodingType>" : "")\(body)</ListBucketResult>
            """.utf8)
    }

    @Test func readsAPage() throws {
        let page = try ListObjectsV2Reader.read(
            Self.document(
                """
                <Prefix>photos/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>\
                <Contents><Key>photos/a.jpg</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>\
                <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size>\
                <StorageClass>STANDARD</StorageClass></Contents>\
                <Contents><Key>photos/b &amp; c.jpg</Key><LastModified>2024-02-29T23:59:59.125Z</LastModified>\
                <ETag>"x-1"</ETag><Size>0</Size></Contents>
                """))
        #expect(
            page.objects == [
                ObjectInfo(
                    key: "photos/a.jpg", size: 434_234, lastModified: 1_255_369_830,
                    etag: ETag("\"fba9dede5f27731c9771645a39863328\"")),
                ObjectInfo(key: "photos/b & c.jpg", size: 0, lastModified: 1_709_251_199.125, etag: ETag("\"x-1\"")),
            ])
        #expect(page.commonPrefixes.isEmpty)
        #expect(page.nextContinuationToken == nil)
    }

    @Test func readsAnEmptyPage() throws {
        let page = try ListObjectsV2Reader.read(
            Self.document("<Prefix>none/</Prefix><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated>"))
        #expect(page == ListPage(objects: [], commonPrefixes: [], nextContinuationToken: nil))
    }

    @Test func readsTheContinuationTokenOfATruncatedPage() throws {
        let page = try ListObjectsV2Reader.read(
            Self.document(
                """
                <IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=\
                </NextContinuationToken><Contents><Key>k</Key><LastModified>2020-01-01T00:00:00.000Z</LastModified>\
                <ETag>"e"</ETag><Size>1</Size></Contents>
                """))
        #expect(page.nextContinuationToken == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
        #expect(page.objects.count == 1)
    }

    @Test func readsCommonPrefixes() throws {
        let page = try ListObjectsV2Reader.read(
            Self.document(
                """
                <Delimiter>/</Delimiter><IsTruncated>false</IsTruncated>\
                <CommonPrefixes><Prefix>a/</Prefix></CommonPrefixes><CommonPrefixes><Prefix>b c/</Prefix></CommonPrefixes>
                """))
        #expect(page.commonPrefixes == ["a/", "b c/"])
    }

    @Test func decodesURLEncodedKeysAndPrefixes() throws {
        let page = try ListObjectsV2Reader.read(
            Self.document(
                """
                <IsTruncated>false</IsTruncated>\
                <Contents><Key>dir/caf%C3%A9+au+lait%2B%01%09.txt</Key>\
                <LastModified>2020-01-01T00:00:00.000Z</LastModified><ETag>"e"</ETag><Size>3</Size></Contents>\
                <CommonPrefixes><Prefix>%E6%97%A5%E6%9C%AC+x/</Prefix></CommonPrefixes>
                """, encoded: true))
        #expect(page.objects.map(\.key) == ["dir/café au lait+\u{1}\t.txt"])
        #expect(page.commonPrefixes == ["日本 x/"])
    }

    @Test(arguments: [
        ("<IsTruncated>true</IsTruncated>", "NextContinuationToken"),
        ("<Contents><Size>1</Size></Contents>", "without <Key>"),
        ("<CommonPrefixes></CommonPrefixes>", "without <Prefix>"),
    ])
    func rejectsMalformedPages(body: String, reason: String) {
        do {
            _ = try ListObjectsV2Reader.read(Self.document(body))
            Issue.record("accepted a malformed page")
        } catch {
            #expect(error.kind == .malformedResponse)
            #expect(error.detail.contains(reason), "\(error.detail)")
        }
    }

    /// A body cut short anywhere (a dropped connection the length check missed) is never a valid page.
    @Test func rejectsTruncatedDocuments() throws {
        let full = Self.document(
            """
            <IsTruncated>false</IsTruncated><Contents><Key>k</Key><LastModified>2020-01-01T00:00:00.000Z\
            </LastModified><ETag>"e"</ETag><Size>1</Size></Contents>
            """)
        #expect(try ListObjectsV2Reader.read(full).objects.count == 1)
        for cut in stride(from: 0, to: full.count - 1, by: 3) {
            #expect(throws: ClientError.self, "cut at \(cut)") { try ListObjectsV2Reader.read(Array(full[..<cut])) }
        }
    }

    /// One entry the reader cannot take never fails its page: it is left out (a key that is not UTF-8 or not valid
    /// percent-encoding, a size that is not a size) or kept with LastModified 0, and reported as an anomaly.
    @Test func oneBadEntryDoesNotFailThePage() throws {
        func entry(_ key: String, size: String = "1", modified: String = "2020-01-01T00:00:00.000Z") -> String {
            "<Contents><Key>\(key)</Key><LastModified>\(modified)</LastModified><ETag>\"e\"</ETag><Size>\(size)</Size></Contents>"
        }
        let page = try ListObjectsV2Reader.read(
            Self.document(
                "<IsTruncated>true</IsTruncated><NextContinuationToken>t2</NextContinuationToken>"
                    + entry("d/good") + entry("d/bad-date", modified: "2020-13-45T99:99:99.000Z")
                    + entry("d/no-date", modified: "") + entry("d/latin1-%E9t%E9") + entry("d/bad%zzescape")
                    + entry("d/huge", size: "1152921504606846976") + entry("d/overflow", size: "99999999999999999999999")
                    + entry("d/negative", size: "-1") + entry("d/plus", size: "+5") + entry("d/esc%1B%5B31m")
                    + "<CommonPrefixes><Prefix>d/cut%E6%97/</Prefix></CommonPrefixes>"
                    + "<CommonPrefixes><Prefix>d/sub/</Prefix></CommonPrefixes>",
                encoded: true))
        #expect(page.objects.map(\.key) == ["d/good", "d/bad-date", "d/no-date", "d/esc\u{1B}[31m"])
        #expect(page.objects.map(\.lastModified) == [1_577_836_800, 0, 0, 1_577_836_800])
        #expect(page.commonPrefixes == ["d/sub/"])
        #expect(page.nextContinuationToken == "t2")
        #expect(
            page.anomalies.map(\.key) == [
                "d/bad-date", "d/no-date", "d/latin1-%E9t%E9", "d/bad%zzescape", "d/huge", "d/overflow", "d/negative",
                "d/plus", "d/cut%E6%97/",
            ])
        #expect(page.anomalies.map(\.hidden) == [false, false, true, true, true, true, true, true, true])
    }

    @Test func sizesUpToTheLargestPlausibleObjectAreRead() throws {
        let body = Self.document(
            "<IsTruncated>false</IsTruncated><Contents><Key>big</Key><LastModified>2020-01-01T00:00:00Z</LastModified>"
                + "<Size>\(ServerNumbers.maxObjectSize)</Size></Contents>")
        let page = try ListObjectsV2Reader.read(body)
        #expect(page.objects.map(\.size) == [ServerNumbers.maxObjectSize])
        #expect(page.anomalies.isEmpty)
    }

    @Test(arguments: ["", "not xml at all", "<ListBucketResult>", "<Error><Code>x</Code></Error>", "<a></a><b/>"])
    func rejectsNonListDocuments(text: String) {
        do {
            _ = try ListObjectsV2Reader.read(Array(text.utf8))
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.kind == .malformedResponse)
            #expect(error.detail.hasPrefix("ListObjectsV2 response"))
        }
    }
}
