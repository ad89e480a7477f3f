// The S3-specific worked examples from AWS's "Signature Calculations for the Authorization Header" page
// (AKIAIOSFODNN7EXAMPLE, bucket examplebucket, 20130524T000000Z): GET Object with a Range and
// GET Bucket (list) with a query. These run through S3RequestFactory, so they check what the store sends:
// virtual-hosted host, x-amz-content-sha256 of the empty body, range signed, Authorization format.

import Foundation
import ObjectStore
import Testing

@testable import S3HTTP

struct S3SigningExampleTests {
    static let factory: S3RequestFactory = {
        let config = S3HTTPConfig(
            bucket: "examplebucket", endpoint: "https://s3.amazonaws.com", addressingStyle: .virtualHosted,
            credentials: S3Credentials(
                accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"))
        return S3RequestFactory(
            endpoint: try! S3Endpoint(config: config), signer: SigV4Signer(credentials: config.credentials!, region: "us-east-1"))
    }()
    static let when = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z

    @Test func getObjectWithRange() {
        let request = Self.factory.make(.get, key: "test.txt", range: ByteRange(0..<10), now: Self.when)
        #expect(request.url == "https://examplebucket.s3.amazonaws.com/test.txt")
        #expect(request.headerLines.contains("range: bytes=0-9"))
        #expect(request.headerLines.contains("x-amz-date: 20130524T000000Z"))
        #expect(
            request.headerLines.contains(
                "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                    + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                    + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"))
    }

    @Test func listBucketWithQuery() {
        let request = Self.factory.make(.get, key: nil, query: [("max-keys", "2"), ("prefix", "J")], now: Self.when)
        #expect(request.url == "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J")
        #expect(
            request.headerLines.contains(
                "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                    + "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                    + "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"))
    }

    @Test func sessionTokenIsSignedAndIfMatchIsNot() {
        let signer = SigV4Signer(
            credentials: S3Credentials(accessKeyID: "AKID", secretAccessKey: "secret", sessionToken: "TOKEN"),
            region: "us-east-1")
        let factory = S3RequestFactory(endpoint: Self.factory.endpoint, signer: signer)
        let request = factory.make(.get, key: "a b/c+d", ifMatch: ETag("\"abc\""), now: Self.when)
        #expect(request.url == "https://examplebucket.s3.amazonaws.com/a%20b/c%2Bd")
        #expect(request.headerLines.contains("x-amz-security-token: TOKEN"))
        #expect(request.headerLines.contains("If-Match: \"abc\""))
        let authorization = request.headerLines.first { $0.hasPrefix("Authorization:") } ?? ""
        #expect(authorization.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"))
    }

    @Test func anonymousRequestsCarryNoAuthorization() {
        let factory = S3RequestFactory(endpoint: Self.factory.endpoint, signer: nil)
        let request = factory.make(.head, key: "k", now: Self.when)
        #expect(!request.headerLines.contains { $0.hasPrefix("Authorization") || $0.hasPrefix("x-amz-date") })
        #expect(request.headerLines.contains("x-amz-content-sha256: \(Digest.emptyPayloadSHA256)"))
    }

    @Test func credentialsNeverPrintTheSecret() {
        let credentials = S3Credentials(accessKeyID: "AKID", secretAccessKey: "s3cr3t", sessionToken: "t0k3n")
        for text in ["\(credentials)", String(reflecting: credentials), "\(Mirror(reflecting: credentials).children.map { $0 })"] {
            #expect(!text.contains("s3cr3t") && !text.contains("t0k3n"))
        }
    }
}
