// The XML answers of writes: upload ids, ETags (Ceph's empty one), ListMultipartUploads pages, and an <Error>
// sent inside a 200 answer, which must be thrown as the error it is.

import ObjectStore
import Testing

@testable import S3HTTP

struct WriteResponseReaderTests {
    static func ok(_ xml: String) -> HTTPResponse {
        HTTPResponse(status: 200, headers: ["x-amz-request-id": "req-1"], body: Array(xml.utf8))
    }

    static let declaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    static let namespace = "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

    @Test func readsTheUploadID() throws {
        let response = Self.ok(
            Self.declaration + "<InitiateMultipartUploadResult \(Self.namespace)><Bucket>b</Bucket><Key>k</Key>"
                + "<UploadId>2~abc-DEF</UploadId></InitiateMultipartUploadResult>")
        #expect(try InitiateMultipartUploadReader.read(response) == MultipartUploadID("2~abc-DEF"))
    }

    @Test func readsTheCompletedETagOrNilWhenEmpty() throws {
        let aws = Self.ok(
            Self.declaration + "<CompleteMultipartUploadResult \(Self.namespace)><Location>l</Location><Bucket>b</Bucket>"
                + "<Key>k</Key><ETag>&quot;3858f62230ac3c915f300c664312c11f-9&quot;</ETag></CompleteMultipartUploadResult>")
        #expect(try CompleteMultipartUploadReader.read(aws) == ETag("\"3858f62230ac3c915f300c664312c11f-9\""))
        let ceph = Self.ok(
            Self.declaration + "<CompleteMultipartUploadResult \(Self.namespace)><Location>l</Location><Bucket>b</Bucket>"
                + "<Key>k</Key><ETag></ETag></CompleteMultipartUploadResult>")
        #expect(try CompleteMultipartUploadReader.read(ceph) == nil)
    }

    @Test func readsCopyResults() throws {
        let object = Self.ok(
            Self.declaration + "<CopyObjectResult><LastModified>2009-10-28T22:32:00.000Z</LastModified>"
                + "<ETag>\"9b2cf535f27731c974343645a3985328\"</ETag></CopyObjectResult>")
        #expect(try CopyResultReader.read(object, expecting: .object) == ETag("\"9b2cf535f27731c974343645a3985328\""))
        let part = Self.ok(
            "<CopyPartResult><LastModified>2011-04-11T20:34:56.000Z</LastModified><ETag>\"e1\"</ETag></CopyPartResult>")
        #expect(try CopyResultReader.read(part, expecting: .part) == ETag("\"e1\""))
        #expect(throws: ObjectStoreError.self) { try CopyResultReader.read(part, expecting: .object) }
    }

    /// S3 answers 200, keeps the connection alive with whitespace, then sends the error document.
    @Test(arguments: [
        ("InternalError", ServiceError.Kind.serverError), ("NoSuchUpload", .noSuchUpload),
        ("AccessDenied", .accessDenied), ("InvalidPart", .other),
    ])
    func anErrorInsideA200IsThrown(code: String, kind: ServiceError.Kind) {
        let response = Self.ok(
            "\n   \n" + Self.declaration + "<Error><Code>\(code)</Code><Message>We encountered an internal error.</Message>"
                + "<RequestId>656c76696e6727732072657175657374</RequestId></Error>")
        let expected = ObjectStoreError.service(
            ServiceError(
                kind: kind, status: 200, code: code, message: "We encountered an internal error.",
                requestID: "656c76696e6727732072657175657374"))
        #expect(throws: expected) { try CompleteMultipartUploadReader.read(response) }
        #expect(throws: expected) { try CopyResultReader.read(response, expecting: .object) }
        #expect(throws: expected) { try CopyResultReader.read(response, expecting: .part) }
    }

    @Test func aCutOffResultIsMalformed() {
        let response = Self.ok(Self.declaration + "<CompleteMultipartUploadResult><ETag>\"x\"</ET")
        #expect(throws: ObjectStoreError.self) { try CompleteMultipartUploadReader.read(response) }
        do {
            _ = try CompleteMultipartUploadReader.read(response)
        } catch {
            guard case .client(let client) = error else { Issue.record("expected a client error, got \(error)"); return }
            #expect(client.kind == .malformedResponse)
        }
    }

    @Test func readsAnEncodedTruncatedUploadsPage() throws {
        let page = try ListMultipartUploadsReader.read(
            Array(
                (Self.declaration + "<ListMultipartUploadsResult \(Self.namespace)><Bucket>b</Bucket>"
                    + "<KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><NextKeyMarker>dir%2Fb+c</NextKeyMarker>"
                    + "<NextUploadIdMarker>id-2</NextUploadIdMarker><EncodingType>url</EncodingType>"
                    + "<MaxUploads>2</MaxUploads><IsTruncated>true</IsTruncated>"
                    + "<Upload><Key>dir/a%25.bin</Key><UploadId>id-1</UploadId><Initiated>2010-11-10T20:48:33.000Z</Initiated></Upload>"
                    + "<Upload><Key>dir/b+c</Key><UploadId>id-2</UploadId></Upload>"
                    + "</ListMultipartUploadsResult>").utf8), urlEncodingRequested: false)
        #expect(
            page.uploads == [
                MultipartUploadInfo(key: "dir/a%.bin", uploadID: MultipartUploadID("id-1"), initiated: 1_289_422_113),
                MultipartUploadInfo(key: "dir/b c", uploadID: MultipartUploadID("id-2"), initiated: 0),
            ])
        #expect(page.next?.keyMarker == "dir/b c" && page.next?.uploadIDMarker == "id-2")
    }

    @Test func theLastUploadsPageHasNoNext() throws {
        let page = try ListMultipartUploadsReader.read(
            Array(
                "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated><Upload><Key>k</Key><UploadId>u</UploadId></Upload></ListMultipartUploadsResult>"
                    .utf8), urlEncodingRequested: true)
        #expect(page.uploads.map(\.key) == ["k"] && page.next == nil)
        #expect(throws: ClientError.self) {
            try ListMultipartUploadsReader.read(
                Array("<ListMultipartUploadsResult><IsTruncated>true</IsTruncated></ListMultipartUploadsResult>".utf8),
                urlEncodingRequested: true)
        }
    }

    /// Ceph RGW 16 encodes keys as asked but does not echo <EncodingType>.
    @Test func keysAreDecodedWhenEncodingWasAskedAndTheAnswerNamesNone() throws {
        let body = Array(
            "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated><Upload><Key>a%20b%2Bc%25d.bin</Key><UploadId>u</UploadId></Upload></ListMultipartUploadsResult>"
                .utf8)
        #expect(try ListMultipartUploadsReader.read(body, urlEncodingRequested: true).uploads.map(\.key) == ["a b+c%d.bin"])
        #expect(try ListMultipartUploadsReader.read(body, urlEncodingRequested: false).uploads.map(\.key) == ["a%20b%2Bc%25d.bin"])
    }

    @Test func noSuchUploadMapsToItsKind() {
        #expect(ServiceErrorMapping.kind(status: 404, code: "NoSuchUpload", target: .object) == .noSuchUpload)
    }
}
