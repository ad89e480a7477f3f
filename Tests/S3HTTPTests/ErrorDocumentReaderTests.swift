// S3 error bodies and how status + code become ServiceError kinds.

import ObjectStore
import Testing

@testable import S3HTTP

struct ErrorDocumentReaderTests {
    @Test func readsAnErrorDocument() throws {
        let body = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>NoSuchKey</Code><Message>The resource you requested does not exist</Message>\
            <Resource>/mybucket/myfoto.jpg</Resource><RequestId>4442587FB7D0A2F9</RequestId></Error>
            """
        #expect(
            try ErrorDocumentReader.read(Array(body.utf8))
                == ErrorDocument(
                    code: "NoSuchKey", message: "The resource you requested does not exist",
                    requestID: "4442587FB7D0A2F9"))
    }

    @Test(arguments: ["", "<Error><Code>NoSuchKey</Code>", "<Error><Message>m</Message></Error>", "<html/>"])
    func rejectsOtherBodies(text: String) {
        #expect(throws: ClientError.self) { try ErrorDocumentReader.read(Array(text.utf8)) }
    }

    @Test func mapsCodesAndStatuses() {
        func kind(_ status: Int, _ code: String, _ target: ServiceErrorMapping.Target = .object) -> ServiceError.Kind {
            let body = code.isEmpty ? "" : "<Error><Code>\(code)</Code><Message>m</Message></Error>"
            return ServiceErrorMapping.serviceError(status: status, headers: [:], body: Array(body.utf8), target: target)
                .kind
        }
        #expect(kind(404, "NoSuchKey") == .noSuchKey)
        #expect(kind(404, "NoSuchBucket") == .noSuchBucket)
        #expect(kind(404, "", .bucket) == .noSuchBucket)
        #expect(kind(404, "", .object) == .noSuchKey)
        for code in ["AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", ""] {
            #expect(kind(403, code) == .accessDenied, "\(code)")
        }
        #expect(kind(400, "ExpiredToken") == .accessDenied)
        #expect(kind(412, "PreconditionFailed") == .preconditionFailed)
        #expect(kind(412, "") == .preconditionFailed)
        #expect(kind(416, "InvalidRange") == .invalidRange)
        #expect(kind(503, "SlowDown") == .throttled)
        #expect(kind(429, "") == .throttled)
        #expect(kind(500, "InternalError") == .serverError)
        #expect(kind(502, "") == .serverError)
        #expect(kind(400, "InvalidArgument") == .other)
    }

    @Test func keepsCodeMessageAndRequestID() {
        let error = ServiceErrorMapping.serviceError(
            status: 403, headers: ["x-amz-request-id": "HEADER-ID"],
            body: Array("<Error><Code>SignatureDoesNotMatch</Code><Message>bad sig</Message></Error>".utf8),
            target: .bucket)
        #expect(error == ServiceError(kind: .accessDenied, status: 403, code: "SignatureDoesNotMatch",
                                      message: "bad sig", requestID: "HEADER-ID"))
        let bare = ServiceErrorMapping.serviceError(status: 404, headers: [:], body: [], target: .object)
        #expect(bare.code == "NotFound" && bare.message.isEmpty)
    }
}
