// Collects one response from curl's header and write callbacks on the engine thread.

import Foundation
import ObjectStore

/// Receives the status line, headers and body of one transfer. Lives on the engine thread only.
package final class ResponseAccumulator: CurlResponseSink {
    private let window: ByteRange?
    private let sink: (any ByteSink)?
    /// Body bytes kept (after slicing), in `body` or delivered to the sink.
    private var keptBytes = 0
    package private(set) var status = 0
    package private(set) var headers: [String: String] = [:]
    private(set) var body: [UInt8] = []
    /// Body bytes seen from the server, before any slicing.
    private(set) var receivedBytes: UInt64 = 0
    /// Set when the body was cut off on purpose: a 200 answer to a ranged request once the window was complete, or a
    /// GET answer whose head GetObjectBodyCheck refuses (no byte of it is kept; the check rejects the response).
    private(set) var stoppedAfterWindow = false
    /// Set when a body being collected in memory passed its cap; the transfer then fails (see `collectionCap`).
    private(set) var overCap: Int?
    private var bodyStarted = false

    /// The most body bytes collected in memory without a window: a LIST page of 1,000 keys of 1,024 bytes, each
    /// percent-encoded three times over, is under 4 MiB; error answers are a few hundred bytes. A server that streams
    /// more is refused rather than allowed to fill the daemon's memory.
    static let collectedSuccessCap = 16 << 20
    static let collectedErrorCap = 1 << 20

    package init(window: ByteRange?, sink: (any ByteSink)? = nil) {
        self.window = window
        self.sink = sink
    }

    var isSlicing: Bool { window != nil && status == 200 }

    var response: HTTPResponse {
        HTTPResponse(status: status, headers: headers, body: body, bodyLength: keptBytes, slicedFromFullObject: isSlicing)
    }

    /// One header line as curl hands it over (with its CRLF). Parsed on the bytes: Foundation's trimming went
    /// through NSString and cost a tenth of the daemon's CPU on small-file reads.
    // SAFETY: `line` is valid for the duration of the call (curl's header callback); every slice of it is read
    // here and copied into Strings before returning.
    package func receiveHeaderLine(_ line: UnsafeRawBufferPointer) {
        let trimmed = unsafe Self.trimmingWhitespace(line[...])
        if unsafe trimmed.starts(with: "HTTP/".utf8) {
            // A new status line (after a 100 Continue, say) starts a new header block.
            headers = [:]
            let fields = unsafe trimmed.split(separator: UInt8(ascii: " "), maxSplits: 2)
            status = unsafe fields.count > 1 ? Int(String(decoding: fields[1], as: UTF8.self)) ?? 0 : 0
        } else if let colon = unsafe trimmed.firstIndex(of: UInt8(ascii: ":")) {
            let name = unsafe String(decoding: trimmed[..<colon].map { Self.lowercased($0) }, as: UTF8.self)
            headers[name] = unsafe String(decoding: Self.trimmingWhitespace(trimmed[(colon + 1)...]), as: UTF8.self)
        }
    }

    private static func trimmingWhitespace(_ bytes: Slice<UnsafeRawBufferPointer>) -> Slice<UnsafeRawBufferPointer> {
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        guard let first = unsafe bytes.firstIndex(where: { !isSpace($0) }),
            let last = unsafe bytes.lastIndex(where: { !isSpace($0) })
        else { return unsafe bytes[bytes.startIndex..<bytes.startIndex] }
        return unsafe bytes[first...last]
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (0x41...0x5A).contains(byte) ? byte + 0x20 : byte
    }

    func receiveBody(_ chunk: UnsafeRawBufferPointer) -> Bool {
        if !bodyStarted {
            bodyStarted = true
            if refusesHead {
                stoppedAfterWindow = true
                return false
            }
            reserveExpectedCapacity()
        }
        let chunkStart = receivedBytes
        receivedBytes += UInt64(chunk.count)
        guard isSlicing, let window else {
            if let cap = collectionCap, body.count + chunk.count > cap {
                overCap = cap
                return false
            }
            unsafe keep(chunk)
            return true
        }
        // Keep only the overlap of [chunkStart, receivedBytes) with the window.
        let keepFrom = max(chunkStart, window.lowerBound)
        let keepTo = min(receivedBytes, window.upperBound)
        if keepFrom < keepTo {
            let slice = unsafe chunk[Int(keepFrom - chunkStart)..<Int(keepTo - chunkStart)]
            // SAFETY: `slice` lies inside the chunk, which is valid for this callback.
            unsafe keep(UnsafeRawBufferPointer(rebasing: slice))
        }
        if receivedBytes >= window.upperBound {
            stoppedAfterWindow = true
            return false
        }
        return true
    }

    /// A GET answer (ranged, or streamed to a sink) whose status and headers cannot carry the bytes asked for:
    /// refused before its first byte is kept, so a sink never sees bytes of another range.
    private var refusesHead: Bool {
        guard window != nil || sink != nil, (200..<300).contains(status) else { return false }
        do {
            _ = try GetObjectBodyCheck.expectedLength(status: status, headers: headers, range: window)
            return false
        } catch {
            return true
        }
    }

    /// A successful body goes to the sink when there is one (it copies what it needs before returning);
    /// everything else is collected.
    private func keep(_ bytes: UnsafeRawBufferPointer) {
        keptBytes += bytes.count
        if let sink, (200..<300).contains(status) {
            // SAFETY: the bytes are valid for this callback; the sink copies them before it returns.
            unsafe sink.receive(bytes)
        } else {
            // SAFETY: the bytes are valid for this callback; they are copied into `body`.
            unsafe body.append(contentsOf: bytes)
        }
    }

    /// How many bytes `keep` may collect in memory: a ranged GET at most its window; other bodies a fixed cap. Nil
    /// for bodies that go to a sink.
    private var collectionCap: Int? {
        let success = (200..<300).contains(status)
        if sink != nil && success { return nil }
        if let window, success { return Int(window.count) }
        return success ? Self.collectedSuccessCap : Self.collectedErrorCap
    }

    /// Preallocates the body: the window for ranged requests, else Content-Length. The server's number is only a
    /// hint: at most 64 MiB are reserved (64 KiB for error bodies), so a lying Content-Length cannot exhaust memory.
    private func reserveExpectedCapacity() {
        let success = (200..<300).contains(status)
        if sink != nil && success { return }
        let contentLength = headers["content-length"].flatMap { ServerNumbers.size($0) }
        var expected = contentLength ?? 0
        if let window { expected = contentLength.map { min($0, window.count) } ?? window.count }
        body.reserveCapacity(Int(min(expected, success ? 64 << 20 : 64 << 10)))
    }
}
