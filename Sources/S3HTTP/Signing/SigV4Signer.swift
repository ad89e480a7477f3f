// SigV4Signer: AWS Signature Version 4 for header-signed requests.
//
// Design: the request is described by its unencoded path, raw query pairs and the exact headers to sign; the
// signer builds the canonical request (URIEncoding gives S3's single-encoded path and sorted query), the string
// to sign, and the Authorization header. The signing key (an HMAC chain over date, region, service) changes once
// a day, so it is cached per day behind a Mutex. Nothing here logs: keys, signatures and tokens stay in memory.

import Synchronization

/// What SigV4 signs about a request.
package struct SignableRequest: Sendable {
    package var method: String
    /// Unencoded path starting with "/" (an S3 key path: "/bucket/dir/file name").
    package var path: String
    package var query: [(name: String, value: String)]
    /// The headers to sign, exactly as sent; must include `host` and `x-amz-date`.
    package var headers: [(name: String, value: String)]
    /// Hex SHA-256 of the body (Digest.emptyPayloadSHA256 for no body).
    package var payloadHash: String

    package init(
        method: String, path: String, query: [(name: String, value: String)], headers: [(name: String, value: String)],
        payloadHash: String
    ) {
        (self.method, self.path, self.query, self.headers, self.payloadHash) = (method, path, query, headers, payloadHash)
    }
}

package final class SigV4Signer: Sendable {
    let credentials: S3Credentials
    let region: String
    let service: String
    private let keyCache = Mutex<(day: String, key: [UInt8])?>(nil)

    init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The value of the Authorization header for `request` signed at `amzDate` ("20150830T123600Z").
    func authorization(for request: SignableRequest, amzDate: String) -> String {
        let (canonical, signedHeaders) = Self.canonicalRequest(request)
        let day = String(amzDate.prefix(8))
        let signature = signature(stringToSign: stringToSign(canonicalRequest: canonical, amzDate: amzDate), day: day)
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(day: day)), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    /// The canonical request text and the signed-headers list ("host;x-amz-date").
    package static func canonicalRequest(_ request: SignableRequest) -> (text: String, signedHeaders: String) {
        var grouped: [String: [String]] = [:]
        for (name, value) in request.headers {
            grouped[name.lowercased(), default: []].append(normalizeHeaderValue(value))
        }
        let names = grouped.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(grouped[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let text = [
            request.method,
            URIEncoding.canonicalPath(request.path),
            URIEncoding.canonicalQuery(request.query),
            canonicalHeaders,
            signedHeaders,
            request.payloadHash,
        ].joined(separator: "\n")
        return (text, signedHeaders)
    }

    func stringToSign(canonicalRequest: String, amzDate: String) -> String {
        ["AWS4-HMAC-SHA256", amzDate, scope(day: String(amzDate.prefix(8))), Digest.sha256Hex(canonicalRequest)]
            .joined(separator: "\n")
    }

    /// Hex HMAC of the string to sign under the day's signing key.
    func signature(stringToSign: String, day: String) -> String {
        Digest.hex(Digest.hmacSHA256(key: signingKey(day: day), Array(stringToSign.utf8)))
    }

    private func scope(day: String) -> String { "\(day)/\(region)/\(service)/aws4_request" }

    private func signingKey(day: String) -> [UInt8] {
        if let cached = keyCache.withLock({ $0 }), cached.day == day { return cached.key }
        var key = Digest.hmacSHA256(key: Array("AWS4\(credentials.secretAccessKey)".utf8), Array(day.utf8))
        for part in [region, service, "aws4_request"] {
            key = Digest.hmacSHA256(key: key, Array(part.utf8))
        }
        keyCache.withLock { $0 = (day, key) }
        return key
    }

    /// Trims the value and collapses runs of spaces, as SigV4 canonical headers require. On UTF-8 bytes, not on
    /// Characters: a space after a prepended concatenation mark (U+0600-U+0605, as an object key may hold) belongs to
    /// that mark's grapheme cluster, so a split on the Character " " kept the run the server collapses, and the
    /// signatures differed (found by the sigv4 fuzz target).
    private static func normalizeHeaderValue(_ value: String) -> String {
        value.utf8.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
            .map { String(decoding: $0, as: UTF8.self) }
            .joined(separator: " ")
    }
}
