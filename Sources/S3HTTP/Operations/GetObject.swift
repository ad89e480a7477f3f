// GetObject, whole or ranged, with If-Match. The body length is checked against what was asked for.

import ObjectStore

extension S3HTTPStore {
    public func get(key: String, range: ByteRange?, ifMatch: ETag?) async throws(ObjectStoreError) -> [UInt8] {
        if let range, range.count == 0 { return [] }
        let request = requests.make(.get, key: key, range: range, ifMatch: ifMatch)
        return try await exchange(request, key: key, range: range).body
    }

    /// The same GET, the body streamed into `sink` as it arrives (no buffering of the whole range here).
    public func get(key: String, range: ByteRange?, ifMatch: ETag?, into sink: any ByteSink) async throws(ObjectStoreError) {
        if let range, range.count == 0 { return }
        var request = requests.make(.get, key: key, range: range, ifMatch: ifMatch)
        request.bodySink = sink
        _ = try await exchange(request, key: key, range: range)
    }

    private func exchange(_ request: HTTPRequest, key: String, range: ByteRange?) async throws(ObjectStoreError) -> HTTPResponse {
        let response = try await send(request, key: key, range: range)
        switch response.status {
        case 200, 206:
            try GetObjectBodyCheck.verify(response, key: key, range: range)
            return response
        default:
            throw .service(
                ServiceErrorMapping.serviceError(
                    status: response.status, headers: response.headers, body: response.body, target: .object))
        }
    }
}

/// Checks that a GET body holds exactly the bytes requested (clipped at the end of the object).
enum GetObjectBodyCheck {
    static func verify(_ response: HTTPResponse, key: String, range: ByteRange?) throws(ObjectStoreError) {
        let received = UInt64(response.bodyLength)
        let contentLength = response[header: "content-length"].flatMap { UInt64($0) }
        guard let range else {
            if let contentLength, contentLength != received { throw truncated(key, received, contentLength) }
            return
        }
        if response.status == 206 {
            try verifyPartial(response, key: key, range: range)
            return
        }
        // 200 to a ranged request: the server sent the whole object and the engine kept only the window.
        guard let total = contentLength else { return }  // length unknown: the stream's end was the object's end
        guard range.lowerBound < total else {
            throw .service(
                ServiceError(
                    kind: .invalidRange, status: 416, code: "InvalidRange",
                    message: "range starts at \(range.lowerBound) but the object has \(total) bytes"))
        }
        let expected = min(range.count, total - range.lowerBound)
        if received != expected { throw truncated(key, received, expected) }
    }

    /// 206: Content-Range must start where we asked and account for every byte received.
    private static func verifyPartial(_ response: HTTPResponse, key: String, range: ByteRange) throws(ObjectStoreError) {
        let received = UInt64(response.bodyLength)
        guard let header = response[header: "content-range"], let contentRange = ContentRange(header) else {
            if received != range.count { throw truncated(key, received, range.count) }
            return
        }
        guard contentRange.first == range.lowerBound, contentRange.last >= contentRange.first else {
            throw .client(
                ClientError(
                    kind: .malformedResponse,
                    detail: "GET \(key): asked for \(range.httpHeaderValue), got Content-Range \(header)"))
        }
        var expected = contentRange.last - contentRange.first + 1
        if let total = contentRange.total {
            expected = min(expected, min(range.count, total - range.lowerBound))
        }
        if received != expected { throw truncated(key, received, expected) }
    }

    private static func truncated(_ key: String, _ received: UInt64, _ expected: UInt64) -> ObjectStoreError {
        .client(ClientError(kind: .truncatedBody, detail: "GET \(key): received \(received) of \(expected) bytes"))
    }
}

/// "bytes 0-99/1234" (total may be "*").
struct ContentRange: Equatable {
    var first: UInt64
    var last: UInt64
    var total: UInt64?

    init?(_ header: String) {
        guard header.hasPrefix("bytes ") else { return nil }
        let parts = header.dropFirst(6).split(separator: "/", maxSplits: 1)
        let bounds = parts.first?.split(separator: "-", maxSplits: 1) ?? []
        guard parts.count == 2, bounds.count == 2, let first = UInt64(bounds[0]), let last = UInt64(bounds[1]) else {
            return nil
        }
        self.first = first
        self.last = last
        total = UInt64(parts[1])
    }
}
