// A GET answer must carry the bytes asked for: Content-Range and Content-Length are read strictly and checked
// against the request before any body byte reaches a sink; numbers that are not sizes are errors, never traps.

import ObjectStore
import Synchronization
import Testing

@testable import S3HTTP

struct GetObjectBodyCheckTests {
    typealias Check = GetObjectBodyCheck

    static func expected(_ status: Int, _ headers: [String: String], _ range: Range<UInt64>?) throws(ObjectStoreError)
        -> UInt64?
    {
        try Check.expectedLength(status: status, headers: headers, range: range.map(ByteRange.init))
    }

    static func kind(_ status: Int, _ headers: [String: String], _ range: Range<UInt64>?) -> ClientError.Kind? {
        do {
            _ = try expected(status, headers, range)
            return nil
        } catch {
            guard case .client(let failure) = error else { return nil }
            return failure.kind
        }
    }

    @Test func acceptsAnswersThatMatchTheRequest() throws {
        #expect(try Self.expected(206, ["content-range": "bytes 100-199/1000", "content-length": "100"], 100..<200) == 100)
        #expect(try Self.expected(206, ["content-range": "bytes 100-199/*"], 100..<200) == 100)
        // Clipped where the server says the object ends, as S3 does for a range past the end.
        #expect(try Self.expected(206, ["content-range": "bytes 900-999/1000"], 900..<2000) == 100)
        #expect(try Self.expected(206, ["content-range": "bytes 500-999/1000"], 500..<UInt64.max) == 500)
        // A 200 to a ranged GET is the whole object, sliced to the range.
        #expect(try Self.expected(200, ["content-length": "1000"], 100..<200) == 100)
        #expect(try Self.expected(200, ["content-length": "150"], 100..<200) == 50)
        #expect(try Self.expected(200, [:], 100..<200) == nil)
        #expect(try Self.expected(200, ["content-length": "7"], nil) == 7)
        #expect(try Self.expected(200, ["content-range": "bytes 0-6/7", "content-length": "7"], 0..<7) == 7)
    }

    /// Every head that could put bytes of another range (or of nothing certain) into a reader's buffer.
    @Test(arguments: [
        (206, ["content-range": "bytes 0-99/1000"], 100..<200 as Range<UInt64>?),  // starts elsewhere
        (206, ["content-range": "bytes 101-200/1000"], 100..<200),
        (206, [:], 100..<200),  // no Content-Range
        (206, ["content-length": "100"], 100..<200),
        (206, ["content-range": "bytes 100-149/1000"], 100..<200),  // short, but not at the object's end
        (206, ["content-range": "bytes 100-149/*"], 100..<200),
        (206, ["content-range": "bytes 500-899/1000"], 500..<UInt64.max),  // the rest, but not to the end
        (206, ["content-range": "bytes 100-299/1000"], 100..<200),  // longer than asked
        (206, ["content-range": "bytes 100-199/1000", "content-length": "99"], 100..<200),
        (206, ["content-range": "bytes 0-99/1000"], nil),  // part of an object asked for whole
        (206, ["content-range": "bytes 0-99/*"], nil),
        (200, ["content-range": "bytes 100-199/1000"], 100..<200),  // a 200 labelled partial
        (200, ["content-range": "bytes 100-199/1000"], nil),
        (206, ["content-range": "bytes 199-100/1000"], 100..<200),  // garbled numbers
        (206, ["content-range": "bytes 100-199/150"], 100..<200),
        (206, ["content-range": "bytes 100-18446744073709551615/18446744073709551615"], 100..<200),
        (206, ["content-range": "bytes 100-99999999999999999999999/*"], 100..<200),
        (206, ["content-range": "bytes +100-199/1000"], 100..<200),
        (206, ["content-range": "bytes 100-199"], 100..<200),
        (206, ["content-range": "items 100-199/1000"], 100..<200),
        (200, ["content-length": "18446744073709551615"], 100..<200),
        (200, ["content-length": "-1"], nil),
        (200, ["content-length": "12 "], nil),
    ])
    func refusesAnswersOfAnotherRange(status: Int, headers: [String: String], range: Range<UInt64>?) {
        #expect(Self.kind(status, headers, range) == .malformedResponse)
    }

    @Test func aRangeBeyondTheEndOfA200IsInvalidRange() {
        do {
            _ = try Self.expected(200, ["content-length": "100"], 100..<200)
            Issue.record("accepted a range past the end")
        } catch {
            guard case .service(let service) = error else { return #expect(Bool(false), "\(error)") }
            #expect(service.kind == .invalidRange)
        }
    }

    @Test func verifyComparesTheBodyWithTheHead() {
        let head = ["content-range": "bytes 100-199/1000", "content-length": "100"]
        let range = ByteRange(100..<200)
        #expect(throws: Never.self) {
            try Check.verify(HTTPResponse(status: 206, headers: head, body: [], bodyLength: 100), key: "k", range: range)
        }
        #expect(throws: ObjectStoreError.client(ClientError(kind: .truncatedBody, detail: "GET k: received 99 of 100 bytes"))) {
            try Check.verify(HTTPResponse(status: 206, headers: head, body: [], bodyLength: 99), key: "k", range: range)
        }
        let wrong = HTTPResponse(status: 206, headers: ["content-range": "bytes 0-99/1000"], body: [], bodyLength: 100)
        do {
            try Check.verify(wrong, key: "k", range: range)
            Issue.record("accepted bytes 0-99 for 100-199")
        } catch {
            guard case .client(let failure) = error else { return #expect(Bool(false), "\(error)") }
            #expect(failure.kind == .malformedResponse)
            #expect(failure.detail.hasPrefix("GET k: asked for bytes=100-199"), "\(failure.detail)")
        }
    }

    @Test func contentRangeIsReadStrictly() {
        #expect(ContentRange("bytes 0-0/1")?.description == "bytes 0-0/1")
        #expect(ContentRange("bytes 5-9/*").map { [$0.first, $0.last, $0.count] } == [5, 9, 5])
        #expect(ContentRange("bytes 5-9/*")?.total == nil)
        for bad in ["bytes 0-0/0", "bytes -0/1", "bytes 0-/1", "bytes 1-0/5", "bytes 0-9/", "bytes 0-1/2/3", "0-1/2", ""] {
            #expect(ContentRange(bad) == nil, "\(bad)")
        }
    }

    @Test func serverNumbersAreDigitsWithinTheLargestObject() {
        #expect(ServerNumbers.size("0") == 0)
        #expect(ServerNumbers.size("1125899906842624") == ServerNumbers.maxObjectSize)
        for bad in ["", "1125899906842625", "18446744073709551616", "99999999999999999999999999", "+1", "-1", " 1", "1 ", "0x10", "١"] {
            #expect(ServerNumbers.size(bad) == nil, "\(bad)")
        }
    }

    /// The streaming path: a 206 of the wrong range is refused at its first body byte; the sink never sees a byte.
    @Test func theAccumulatorRefusesAWrongRangeBeforeTheSinkSeesIt() throws {
        let sink = CountingSink()
        let accumulator = ResponseAccumulator(window: ByteRange(100..<200), sink: sink)
        for line in ["HTTP/1.1 206 Partial Content\r\n", "Content-Range: bytes 0-99/1000\r\n", "Content-Length: 100\r\n", "\r\n"] {
            Array(line.utf8).withUnsafeBytes { accumulator.receiveHeaderLine($0) }
        }
        let body = [UInt8](repeating: 7, count: 100)
        let accepted = body.withUnsafeBytes { accumulator.receiveBody($0) }
        #expect(!accepted)
        #expect(sink.count == 0)
        #expect(accumulator.stoppedAfterWindow)
        #expect(throws: ObjectStoreError.self) {
            try Check.verify(accumulator.response, key: "k", range: ByteRange(100..<200))
        }
    }

    @Test func theAccumulatorStreamsARightRange() {
        let sink = CountingSink()
        let accumulator = ResponseAccumulator(window: ByteRange(100..<200), sink: sink)
        for line in ["HTTP/1.1 206 Partial Content\r\n", "Content-Range: bytes 100-199/1000\r\n", "\r\n"] {
            Array(line.utf8).withUnsafeBytes { accumulator.receiveHeaderLine($0) }
        }
        let body = [UInt8](repeating: 7, count: 100)
        #expect(body.withUnsafeBytes { accumulator.receiveBody($0) })
        #expect(sink.count == 100)
    }
}

private final class CountingSink: ByteSink {
    private let received = Atomic<Int>(0)
    var count: Int { received.load(ordering: .relaxed) }
    func receive(_ chunk: UnsafeRawBufferPointer) { received.add(chunk.count, ordering: .relaxed) }
}
