// Builds signed (or anonymous) HTTP requests for S3 operations.

import Foundation
import ObjectStore

struct S3RequestFactory: Sendable {
    let endpoint: S3Endpoint
    /// nil for anonymous requests.
    let signer: SigV4Signer?

    /// A request for `key` (nil: the bucket). Signs host, x-amz-content-sha256, x-amz-date, the session token
    /// and Range; If-Match is sent unsigned.
    func make(
        _ method: HTTPRequest.Method, key: String?, query: [(name: String, value: String)] = [],
        range: ByteRange? = nil, ifMatch: ETag? = nil, now: Date = Date()
    ) -> HTTPRequest {
        let path = endpoint.path(forKey: key)
        var signed: [(name: String, value: String)] = [
            ("host", endpoint.hostHeader),
            // Sent on unsigned requests too: Ceph RGW rejects header-signed requests without it, and it is harmless.
            ("x-amz-content-sha256", Digest.emptyPayloadSHA256),
        ]
        if let range { signed.append(("range", range.httpHeaderValue)) }
        var unsigned: [String] = []
        if let signer {
            let amzDate = Timestamps.amzDate(epochSeconds: Int(now.timeIntervalSince1970))
            signed.append(("x-amz-date", amzDate))
            if let token = signer.credentials.sessionToken { signed.append(("x-amz-security-token", token)) }
            let signable = SignableRequest(
                method: method.rawValue, path: path, query: query, headers: signed,
                payloadHash: Digest.emptyPayloadSHA256)
            unsigned.append("Authorization: \(signer.authorization(for: signable, amzDate: amzDate))")
        }
        if let ifMatch { unsigned.append("If-Match: \(ifMatch.value)") }
        return HTTPRequest(
            method: method, url: endpoint.url(path: path, query: query),
            headerLines: signed.map { "\($0.name): \($0.value)" } + unsigned, bodyWindow: range)
    }
}
