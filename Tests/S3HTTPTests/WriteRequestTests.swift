// Building and signing write requests: AWS's worked PUT Object example (payload hash signed), the payload hash
// per scheme, copy-source headers, and the upload body reader over a file range.

import Foundation
import ObjectStore
import Testing

@testable import S3HTTP

struct WriteRequestTests {
    static let when = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    static let example = S3SigningExampleTests.factory

    static func factory(_ endpoint: String, signed: Bool = true) throws -> S3RequestFactory {
        let config = S3HTTPConfig(
            bucket: "test", endpoint: endpoint,
            credentials: S3Credentials(accessKeyID: "AKID", secretAccessKey: "secret"))
        return S3RequestFactory(
            endpoint: try S3Endpoint(config: config),
            signer: signed ? SigV4Signer(credentials: config.credentials!, region: "us-east-1") : nil)
    }

    /// A temporary file of `size` deterministic bytes; the caller removes it.
    static func temporaryFile(size: Int) throws -> (path: String, bytes: [UInt8]) {
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 9) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("s3http-body-\(UUID())").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (path, bytes)
    }

    /// "Example: PUT Object" of AWS's "Signature Calculations for the Authorization Header" page: the body's
    /// SHA-256 is the signed payload hash.
    @Test func putObjectWithAPayloadHash() async throws {
        let body = UploadBody.bytes(Array("Welcome to Amazon S3.".utf8))
        let hash = try PayloadHash.sha256Hex(of: body)
        #expect(hash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let request = Self.example.make(
            .put, key: "test$file.text",
            signedHeaders: [("date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
            body: body, payloadHash: hash, now: Self.when)
        #expect(request.method == .put)
        #expect(request.url == "https://examplebucket.s3.amazonaws.com/test%24file.text")
        #expect(request.uploadBody == body)
        #expect(request.headerLines.contains("x-amz-content-sha256: \(hash)"))
        #expect(
            request.headerLines.contains(
                "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                    + "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
                    + "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"))
        #expect(!request.headerLines.contains { $0.lowercased().hasPrefix("content-length") })
    }

    @Test func payloadIsHashedOverHTTPAndUnsignedOverHTTPS() async throws {
        let body = UploadBody.bytes(Array("abc".utf8))
        let sha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        #expect(try await Self.factory("http://127.0.0.1:7480").payloadHash(for: body) == sha)
        #expect(try await Self.factory("https://127.0.0.1:7480").payloadHash(for: body) == "UNSIGNED-PAYLOAD")
        #expect(try await Self.factory("http://127.0.0.1:7480", signed: false).payloadHash(for: body) == "UNSIGNED-PAYLOAD")
    }

    @Test func aFileRangeIsHashedInChunksAsItsBytesWouldBe() async throws {
        let (path, bytes) = try Self.temporaryFile(size: 3 * PayloadHash.chunkSize + 12_345)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let range = 1_000..<(2 * PayloadHash.chunkSize + 77_777)
        let body = UploadBody.file(path: path, offset: UInt64(range.lowerBound), length: UInt64(range.count))
        let expected = Digest.hex(Digest.sha256(bytes[range]))
        #expect(try await Self.factory("http://127.0.0.1:7480").payloadHash(for: body) == expected)
    }

    @Test func aMissingOrShortFileFailsTheHash() {
        #expect(throws: ClientError.self) {
            _ = try PayloadHash.sha256Hex(of: .file(path: "/nonexistent/s3http-body", offset: 0, length: 1))
        }
    }

    @Test func theReaderStreamsTheFileRangeAndRewinds() throws {
        let (path, bytes) = try Self.temporaryFile(size: 10_000)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reader = try UploadBodyReader(.file(path: path, offset: 100, length: 5_000))
        func drain() -> [UInt8] {
            var out: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 777)
            while let count = buffer.withUnsafeMutableBytes({ reader.read(into: $0) }), count > 0 {
                out += buffer[..<count]
            }
            return out
        }
        #expect(drain() == Array(bytes[100..<5_100]))
        #expect(reader.seek(to: 4_000))
        #expect(drain() == Array(bytes[4_100..<5_100]))
        #expect(!reader.seek(to: 5_001))

        let short = try UploadBodyReader(.file(path: path, offset: 9_000, length: 2_000))
        var buffer = [UInt8](repeating: 0, count: 4096)
        #expect(buffer.withUnsafeMutableBytes { short.read(into: $0) } == 1_000)
        #expect(buffer.withUnsafeMutableBytes { short.read(into: $0) } == nil)
        #expect(short.failure?.detail.contains("ends at 10000") == true)
    }

    @Test func copySourceIsEncodedAndSigned() {
        let source = Self.example.copySource("dir/a b+c.txt")
        #expect(source == "/examplebucket/dir/a%20b%2Bc.txt")
        let request = Self.example.make(
            .put, key: "dst", query: [("partNumber", "2"), ("uploadId", "abc")],
            signedHeaders: [
                ("x-amz-copy-source", source), ("x-amz-copy-source-range", "bytes=0-9"),
                ("x-amz-copy-source-if-match", "\"e\""),
            ],
            now: Self.when)
        #expect(request.url == "https://examplebucket.s3.amazonaws.com/dst?partNumber=2&uploadId=abc")
        #expect(request.headerLines.contains("x-amz-copy-source: /examplebucket/dir/a%20b%2Bc.txt"))
        let authorization = request.headerLines.first { $0.hasPrefix("Authorization:") } ?? ""
        #expect(
            authorization.contains(
                "SignedHeaders=host;x-amz-content-sha256;x-amz-copy-source;x-amz-copy-source-if-match;"
                    + "x-amz-copy-source-range;x-amz-date,"))
    }

    @Test func conditionsAreSentUnsigned() {
        let request = Self.example.make(
            .put, key: "k", ifMatch: ETag("\"v1\""), unsignedHeaders: ["If-None-Match: *"], now: Self.when)
        #expect(request.headerLines.contains("If-Match: \"v1\""))
        #expect(request.headerLines.contains("If-None-Match: *"))
        let authorization = request.headerLines.first { $0.hasPrefix("Authorization:") } ?? ""
        #expect(authorization.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date,"))
    }

    @Test func completionBodyListsPartsEscaped() {
        let xml = String(
            decoding: CompleteMultipartUploadDocument.xml([
                CompletedPart(number: 1, etag: ETag("\"a&b\"")), CompletedPart(number: 2, etag: ETag("<x>")),
            ]), as: UTF8.self)
        #expect(
            xml == "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + "<Part><PartNumber>1</PartNumber><ETag>&quot;a&amp;b&quot;</ETag></Part>"
                + "<Part><PartNumber>2</PartNumber><ETag>&lt;x&gt;</ETag></Part></CompleteMultipartUpload>")
    }
}
