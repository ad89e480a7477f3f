// GetObject, whole or ranged, with If-Match. The answer's status, Content-Range and Content-Length are checked
// against what was asked for before any body byte is used, and the body's length once it is in.

import ObjectStore

extension S3HTTPStore {
    public func get(key: String, range: ByteRange?, ifMatch: ETag?) async throws(ObjectStoreError) -> [UInt8] {
        if let range, range.count == 0 { return [] }
        return try await exchange(key: key, range: range, ifMatch: ifMatch, sink: nil).body
    }

    /// The same GET, the body streamed into `sink` as it arrives (no buffering of the whole range here).
    public func get(key: String, range: ByteRange?, ifMatch: ETag?, into sink: any ByteSink) async throws(ObjectStoreError) {
        if let range, range.count == 0 { return }
        _ = try await exchange(key: key, range: range, ifMatch: ifMatch, sink: sink)
    }

    private func exchange(key: String, range: ByteRange?, ifMatch: ETag?, sink: (any ByteSink)?) async throws(
        ObjectStoreError
    ) -> HTTPResponse {
        let response = try await send(key: key, range: range) { requests in
            var request = requests.make(.get, key: key, range: range, ifMatch: ifMatch)
            request.bodySink = sink
            return request
        }
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

/// Checks that a GET answer holds exactly the bytes requested, clipped where the server says the object ends (as S3
/// does for a range past the end). A 2xx head is judged before its first body byte reaches a sink
/// (ResponseAccumulator), so bytes of another range are never delivered, and again with the body's length once the
/// transfer is over. A server that says an object ends earlier than it does is not caught here (the store does not
/// know the size): the filesystem refuses answers shorter than the range it knows exists.
package enum GetObjectBodyCheck {
    /// How many body bytes a 2xx answer to a GET of `range` must bring (after slicing a 200 to the range); nil when
    /// the server did not say (a 200 without Content-Length: the stream's end is the object's end). Throws when the
    /// head cannot carry the bytes asked for: a 206 starting elsewhere, or ending early but not at the object's end,
    /// a 206 without Content-Range, a partial answer to a whole-object GET, numbers that are not sizes or
    /// contradict each other.
    package static func expectedLength(status: Int, headers: [String: String], range: ByteRange?) throws(ObjectStoreError)
        -> UInt64?
    {
        var contentLength: UInt64?
        if let text = headers["content-length"] {
            guard let value = ServerNumbers.size(text) else { throw malformed("Content-Length \"\(text)\" is not a size") }
            contentLength = value
        }
        var contentRange: ContentRange?
        if let text = headers["content-range"] {
            guard let value = ContentRange(text) else { throw malformed("Content-Range \"\(text)\" is not a byte range") }
            contentRange = value
        }
        let asked = range?.httpHeaderValue ?? "the whole object"
        guard status == 206 else {
            // A 200 is the whole object (Content-Length long); a Content-Range on it may only say so.
            if let contentRange, !contentRange.isWholeObject {
                throw malformed("asked for \(asked), got \(status) with Content-Range \(contentRange)")
            }
            guard let range, let total = contentLength else { return contentLength }
            guard range.lowerBound < total else {
                throw .service(
                    ServiceError(
                        kind: .invalidRange, status: 416, code: "InvalidRange",
                        message: "range starts at \(range.lowerBound) but the object has \(total) bytes"))
            }
            return min(range.count, total - range.lowerBound)
        }
        guard let contentRange else { throw malformed("asked for \(asked), got 206 without Content-Range") }
        let length = contentRange.count
        if let contentLength, contentLength != length {
            throw malformed("Content-Length \(contentLength) contradicts Content-Range \(contentRange)")
        }
        let reachesEnd = contentRange.total.map { contentRange.last + 1 == $0 } ?? false
        let fits: Bool
        if let range {
            fits = contentRange.first == range.lowerBound && (length == range.count || (length < range.count && reachesEnd))
        } else {
            fits = contentRange.first == 0 && reachesEnd
        }
        guard fits else { throw malformed("asked for \(asked), got Content-Range \(contentRange)") }
        return length
    }

    static func verify(_ response: HTTPResponse, key: String, range: ByteRange?) throws(ObjectStoreError) {
        let expected: UInt64?
        do {
            expected = try expectedLength(status: response.status, headers: response.headers, range: range)
        } catch {
            guard case .client(var failure) = error else { throw error }
            failure.detail = "GET \(key): \(failure.detail)"
            throw .client(failure)
        }
        let received = UInt64(response.bodyLength)
        // Without a length from the server, the stream's end was the object's end.
        guard let expected, received != expected else { return }
        throw .client(
            ClientError(
                kind: received < expected ? .truncatedBody : .malformedResponse,
                detail: "GET \(key): received \(received) of \(expected) bytes"))
    }

    private static func malformed(_ detail: String) -> ObjectStoreError {
        .client(ClientError(kind: .malformedResponse, detail: detail))
    }
}

/// "bytes 0-99/1234" (total may be "*"), read strictly: first ≤ last, last < total, every number a plausible size.
package struct ContentRange: Equatable, CustomStringConvertible {
    package var first: UInt64
    package var last: UInt64
    package var total: UInt64?

    package init?(_ header: String) {
        guard header.hasPrefix("bytes ") else { return nil }
        let parts = header.dropFirst(6).split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let bounds = parts[0].split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard bounds.count == 2, let first = ServerNumbers.size(bounds[0]), let last = ServerNumbers.size(bounds[1]),
            first <= last
        else { return nil }
        if parts[1] == "*" {
            total = nil
        } else {
            guard let total = ServerNumbers.size(parts[1]), last < total else { return nil }
            self.total = total
        }
        self.first = first
        self.last = last
    }

    /// Bytes the range holds (no overflow: both ends are at most ServerNumbers.maxObjectSize).
    package var count: UInt64 { last - first + 1 }

    /// "bytes 0-(n-1)/n": the whole object.
    package var isWholeObject: Bool { first == 0 && total == last + 1 }

    package var description: String { "bytes \(first)-\(last)/\(total.map(String.init) ?? "*")" }
}
