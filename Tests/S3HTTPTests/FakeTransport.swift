// A stand-in for the libcurl engine in credential-source tests: answers each request from a closure and keeps
// the requests it saw, in order.

import Foundation
import ObjectStore
import Synchronization

@testable import S3HTTP

final class FakeTransport: HTTPTransport {
    private let answer: @Sendable (HTTPRequest) -> Result<HTTPResponse, ClientError>
    private let log = Mutex<[HTTPRequest]>([])

    init(_ answer: @escaping @Sendable (HTTPRequest) -> Result<HTTPResponse, ClientError>) {
        self.answer = answer
    }

    /// Every request answered `status` with `body`.
    convenience init(status: Int, body: String) {
        self.init { _ in .success(HTTPResponse(status: status, headers: [:], body: Array(body.utf8))) }
    }

    var requests: [HTTPRequest] { log.withLock { $0 } }

    func perform(_ request: HTTPRequest) async -> Result<HTTPResponse, ClientError> {
        log.withLock { $0.append(request) }
        return answer(request)
    }
}

extension HTTPRequest {
    /// The value of header `name` (case-insensitive), as sent.
    func header(_ name: String) -> String? {
        headerLines.lazy.compactMap { line -> String? in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == name.lowercased() else { return nil }
            return parts[1].trimmingCharacters(in: .whitespaces)
        }.first
    }

    /// The form body of an STS call, decoded.
    var formFields: [String: String] {
        guard case .bytes(let bytes)? = uploadBody else { return [:] }
        var fields: [String: String] = [:]
        for pair in String(decoding: bytes, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            fields[parts[0]] = URIEncoding.decodeFormEncoded(parts.count > 1 ? parts[1] : "")
        }
        return fields
    }
}
