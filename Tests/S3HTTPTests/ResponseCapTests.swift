import ObjectStore
@testable import S3HTTP
import Testing

/// Bodies collected in memory have caps: a server that keeps streaming is cut off, never allowed to fill memory.
@Suite struct ResponseCapTests {
    static func accumulator(status: String, window: ByteRange? = nil, headers: [String] = []) -> ResponseAccumulator {
        let accumulator = ResponseAccumulator(window: window)
        for line in ["HTTP/1.1 \(status)\r\n", "Transfer-Encoding: chunked\r\n"] + headers + ["\r\n"] {
            Array(line.utf8).withUnsafeBytes { accumulator.receiveHeaderLine($0) }
        }
        return accumulator
    }

    /// Feeds 1 MiB chunks until the accumulator refuses one; the bytes it took.
    static func feed(_ accumulator: ResponseAccumulator, upTo limit: Int) -> Int {
        let chunk = [UInt8](repeating: 0x41, count: 1 << 20)
        var taken = 0
        while taken < limit, chunk.withUnsafeBytes({ accumulator.receiveBody($0) }) { taken += chunk.count }
        return taken
    }

    @Test func anEndlessListingBodyStopsAtItsCap() {
        let accumulator = Self.accumulator(status: "200 OK")
        let taken = Self.feed(accumulator, upTo: 64 << 20)
        #expect(taken == ResponseAccumulator.collectedSuccessCap)
        #expect(accumulator.overCap == ResponseAccumulator.collectedSuccessCap)
        #expect(accumulator.response.body.count <= ResponseAccumulator.collectedSuccessCap)
    }

    @Test func anEndlessErrorBodyStopsAtItsSmallerCap() {
        let accumulator = Self.accumulator(status: "500 Internal Server Error")
        #expect(Self.feed(accumulator, upTo: 64 << 20) == ResponseAccumulator.collectedErrorCap)
        #expect(accumulator.overCap != nil)
    }

    @Test func aRangedAnswerLongerThanItsRangeIsCutOff() {
        let window = ByteRange(0..<(2 << 20))
        let accumulator = Self.accumulator(
            status: "206 Partial Content", window: window, headers: ["Content-Range: bytes 0-2097151/9999999\r\n"])
        #expect(Self.feed(accumulator, upTo: 64 << 20) == 2 << 20)
        #expect(accumulator.overCap == 2 << 20)
    }

    @Test func aBodyWithinItsCapIsKeptWhole() {
        let accumulator = Self.accumulator(status: "200 OK")
        let body = [UInt8](repeating: 1, count: 5000)
        #expect(body.withUnsafeBytes { accumulator.receiveBody($0) })
        #expect(accumulator.overCap == nil && accumulator.response.body == body)
    }
}
