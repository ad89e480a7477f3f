// The signer against AWS's published SigV4 test suite (aws-sig-v4-test-suite, as vendored in
// bazelbuild/bazel third_party/aws-sig-v4-test-suite): service "service", region us-east-1,
// AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830T123600Z. Each vector's request comes from
// its .req file; the expected Authorization header from its .authz file, and where the suite gives them, the
// canonical request (.creq) and string to sign (.sts) are checked too. Paths in .req files are unencoded, so
// S3's single encoding yields the suite's canonical URIs (no vector here exercises double encoding).

import Testing

@testable import S3HTTP

struct SigV4SuiteTests {
    static let amzDate = "20150830T123600Z"
    static let signer = SigV4Signer(
        credentials: S3Credentials(
            accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1", service: "service")
    static let credentialPrefix = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "

    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var method = "GET"
        var path = "/"
        var query: [(name: String, value: String)] = []
        var extraHeaders: [(name: String, value: String)] = []
        var body = ""
        var signedHeaders = "host;x-amz-date"
        var signature: String
        var testDescription: String { name }
    }

    static let vectors: [Vector] = [
        Vector(name: "get-vanilla", signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        Vector(
            name: "get-vanilla-query-order-key-case", query: [("Param2", "value2"), ("Param1", "value1")],
            signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        Vector(
            name: "get-vanilla-query-order-key", query: [("Param1", "value2"), ("Param1", "Value1")],
            signature: "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"),
        Vector(
            name: "get-vanilla-empty-query-key", query: [("Param1", "value1")],
            signature: "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"),
        Vector(
            name: "get-vanilla-utf8-query", query: [("\u{1234}", "bar")],
            signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
        Vector(
            name: "get-unreserved", path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"),
        Vector(
            name: "get-utf8", path: "/\u{1234}",
            signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
        Vector(
            name: "normalize-path/get-space", path: "/example space/",
            signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"),
        Vector(
            name: "post-vanilla", method: "POST",
            signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        Vector(
            name: "post-x-www-form-urlencoded", method: "POST",
            extraHeaders: [("Content-Type", "application/x-www-form-urlencoded")], body: "Param1=value1",
            signedHeaders: "content-type;host;x-amz-date",
            signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
        Vector(
            name: "post-x-www-form-urlencoded-parameters", method: "POST",
            extraHeaders: [("Content-Type", "application/x-www-form-urlencoded; charset=utf8")], body: "Param1=value1",
            signedHeaders: "content-type;host;x-amz-date",
            signature: "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"),
        Vector(
            name: "post-sts-token/post-sts-header-before", method: "POST",
            extraHeaders: [
                (
                    "X-Amz-Security-Token",
                    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
                )
            ],
            signedHeaders: "host;x-amz-date;x-amz-security-token",
            signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"),
    ]

    static func signable(_ vector: Vector) -> SignableRequest {
        SignableRequest(
            method: vector.method, path: vector.path, query: vector.query,
            headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", amzDate)] + vector.extraHeaders,
            payloadHash: Digest.sha256Hex(vector.body))
    }

    /// End to end: request → Authorization header, compared with the vector's .authz file.
    @Test(arguments: vectors)
    func authorizationMatchesSuite(_ vector: Vector) {
        let authorization = Self.signer.authorization(for: Self.signable(vector), amzDate: Self.amzDate)
        #expect(
            authorization
                == Self.credentialPrefix + "SignedHeaders=\(vector.signedHeaders), Signature=\(vector.signature)")
    }

    /// Header values are trimmed and their runs of spaces collapsed byte by byte, as the server does: also a run
    /// that follows a prepended concatenation mark (U+0601), whose grapheme cluster takes the first space with it.
    @Test func headerValuesCollapseSpacesAfterAPrependedMark() {
        let request = SignableRequest(
            method: "GET", path: "/b/k", query: [],
            headers: [("host", "h"), ("x-amz-copy-source", "  /b/c\u{601}  |  x  ")], payloadHash: "UNSIGNED-PAYLOAD")
        let lines = SigV4Signer.canonicalRequest(request).text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[4].utf8.elementsEqual("x-amz-copy-source:/b/c\u{601} | x".utf8))
    }

    /// The intermediate steps, for the vectors whose .creq and .sts files the suite publishes.
    @Test func canonicalRequestAndStringToSign() {
        let cases: [(name: String, creq: String, stsHash: String)] = [
            (
                "get-vanilla",
                "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
                    + Digest.emptyPayloadSHA256,
                "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
            ),
            (
                "get-vanilla-query-order-key",
                "GET\n/\nParam1=Value1&Param1=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                    + "host;x-amz-date\n" + Digest.emptyPayloadSHA256,
                "704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89"
            ),
            (
                "post-x-www-form-urlencoded",
                "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
                    + "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
                    + "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
                "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281"
            ),
            (
                "post-x-www-form-urlencoded-parameters",
                "POST\n/\n\ncontent-type:application/x-www-form-urlencoded; charset=utf8\nhost:example.amazonaws.com\n"
                    + "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
                    + "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
                "2e1cf7ed91881a30569e46552437e4156c823447bf1781b921b5d486c568dd1c"
            ),
        ]
        for (name, creq, stsHash) in cases {
            let vector = Self.vectors.first { $0.name == name }!
            let canonical = SigV4Signer.canonicalRequest(Self.signable(vector)).text
            #expect(canonical == creq, "\(name)")
            let sts = Self.signer.stringToSign(canonicalRequest: canonical, amzDate: Self.amzDate)
            #expect(sts == "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\(stsHash)")
        }
    }
}
