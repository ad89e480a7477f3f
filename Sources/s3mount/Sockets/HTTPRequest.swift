// HTTPRequest: one HTTP/1.1 request read off a connection, for the small servers here (/metrics, the Docker
// volume plugin): the request line, the headers, and a body of Content-Length bytes. Chunked bodies are not
// read (no client of these servers sends one; such a request gets 411). Reading stops at `limit` bytes or the
// connection's timeout, so a stuck or flooding client cannot hold the server.
import Foundation

struct HTTPRequest: Sendable {
    var method: String
    /// The path without its query string.
    var path: String
    /// Header names lowercased.
    var headers: [String: String]
    var body: [UInt8]

    var isChunked: Bool { headers["transfer-encoding"]?.lowercased().contains("chunked") == true }

    /// The next request on `fd`; nil when the client sent no complete request line and headers.
    static func read(_ fd: Int32, limit: Int) -> HTTPRequest? {
        let bytes = Sockets.read(fd, limit: limit) { received in
            guard let end = headerEnd(received) else { return false }
            return received.count >= end + contentLength(parseHeaders(received[..<end]))
        }
        guard let end = headerEnd(bytes) else { return nil }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).split(whereSeparator: \.isNewline)
        let parts = lines.first?.split(separator: " ") ?? []
        guard parts.count >= 2 else { return nil }
        let headers = parseHeaders(bytes[..<end])
        let body = Array(bytes[end...].prefix(contentLength(headers)))
        let path = parts[1].split(separator: "?", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return HTTPRequest(method: String(parts[0]), path: path, headers: headers, body: body)
    }

    /// A whole response, closing the connection after it.
    static func response(status: String, type: String, body: [UInt8]) -> [UInt8] {
        let head = "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + body
    }

    /// The index just past the blank line that ends the headers.
    private static func headerEnd(_ bytes: [UInt8]) -> Int? {
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == 10, bytes[index + 1] == 10 { return index + 2 }
            if index + 3 < bytes.count, bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 {
                return index + 4
            }
            index += 1
        }
        return nil
    }

    private static func parseHeaders(_ head: ArraySlice<UInt8>) -> [String: String] {
        var headers: [String: String] = [:]
        for line in String(decoding: head, as: UTF8.self).split(whereSeparator: \.isNewline).dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()] =
                line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return headers
    }

    private static func contentLength(_ headers: [String: String]) -> Int {
        max(0, headers["content-length"].flatMap { Int($0) } ?? 0)
    }
}
