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
}
