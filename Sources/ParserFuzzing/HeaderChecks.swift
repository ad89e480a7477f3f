// HeaderChecks: numbers, Content-Range and header lines of a server's answer, against ReferenceParsers and against
// what a GET answer must bring for the range asked.

import ObjectStore
import S3HTTP

enum HeaderChecks {
    static func numbers(_ input: [UInt8]) throws(InvariantViolation) {
        let text = String(decoding: input, as: UTF8.self)
        let value = ServerNumbers.size(text)
        try require(value == ReferenceParsers.size(text), "\(text.debugDescription) read as \(String(describing: value))")
    }

    /// The input as a Content-Range value, then as a recipe for a whole GET head.
    static func contentRange(_ input: [UInt8]) throws(InvariantViolation) {
        let text = String(decoding: input, as: UTF8.self)
        let parsed = ContentRange(text)
        let reference = ReferenceParsers.contentRange(text)
        try require(
            parsed.map { [$0.first, $0.last, $0.total] } == reference.map { [$0.first, $0.last, $0.total] },
            "\(text.debugDescription) read as \(String(describing: parsed)), reference \(String(describing: reference))")
        if let parsed {
            try require(parsed.count == parsed.last - parsed.first + 1, "count of \(parsed)")
            try require(ContentRange(parsed.description) == parsed, "\(parsed) does not read back")
            try require(parsed.isWholeObject == (parsed.first == 0 && parsed.total == parsed.last + 1), "whole: \(parsed)")
        }

        var recipe = FuzzInput(input)
        let status = [200, 206, 204, 206][recipe.below(4)]
        let range = recipe.flag() ? ByteRange(&recipe) : nil
        var headers: [String: String] = [:]
        if recipe.flag() { headers["content-length"] = number(&recipe, near: range) }
        if recipe.flag() {
            headers["content-range"] =
                recipe.flag()
                ? "bytes \(number(&recipe, near: range))-\(number(&recipe, near: range))/\(number(&recipe, near: range))"
                : recipe.string(maxCount: 32)
        }
        try getHead(status: status, headers: headers, range: range)
    }

    /// Header lines as curl hands them over, one per input line: names lower-case, values trimmed, the last of a
    /// name wins, a status line starts afresh; and the GET verdict and HEAD ETag on the result.
    static func headerLines(_ input: [UInt8]) throws(InvariantViolation) {
        let accumulator = ResponseAccumulator(window: nil)
        receive("HTTP/1.1 200 OK\r\n", accumulator)
        for line in input.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            receive(Array(line) + [0x0A], accumulator)
        }
        for (name, value) in accumulator.headers {
            try require(!name.utf8.contains { (0x41...0x5A).contains($0) }, "header name \(name.debugDescription)")
            let spaces: Set<UInt8> = [0x20, 0x09, 0x0D, 0x0A]
            try require(
                !(value.utf8.first.map(spaces.contains) ?? false) && !(value.utf8.last.map(spaces.contains) ?? false),
                "header \(name) has untrimmed value \(value.debugDescription)")
        }
        let etag = ServerETag.read(accumulator.headers["etag"]) ?? ETag("")
        try require(ListingChecks.isHeaderSafe(etag.value), "ETag \(etag.value.debugDescription) cannot go back in a header")
        try getHead(status: accumulator.status, headers: accumulator.headers, range: nil)
        receive("X-Fuzz-Last: \t last value \r\n", accumulator)
        try require(accumulator.headers["x-fuzz-last"] == "last value", "a header line after the input was misread")
        receive("HTTP/1.1 206 Partial Content\r\n", accumulator)
        try require(accumulator.status == 206 && accumulator.headers.isEmpty, "a new status line kept the old headers")
    }

    /// What GetObjectBodyCheck accepts for a GET of `range` must carry exactly the bytes asked for.
    private static func getHead(status: Int, headers: [String: String], range: ByteRange?) throws(InvariantViolation) {
        guard let length = try? GetObjectBodyCheck.expectedLength(status: status, headers: headers, range: range) else {
            return
        }
        let shown = "status \(status), \(headers), range \(String(describing: range))"
        if let range { try require(length <= range.count, "\(length) bytes expected for \(shown)") }
        guard status == 206 else {
            try require(
                headers["content-length"].flatMap(ReferenceParsers.size).map { total in
                    range.map { min($0.count, total - $0.lowerBound) } ?? total
                } == length, "\(length) bytes expected for \(shown)")
            return
        }
        guard let contentRange = headers["content-range"].flatMap(ReferenceParsers.contentRange) else {
            throw InvariantViolation("a 206 without a valid Content-Range was accepted: \(shown)")
        }
        try require(contentRange.last - contentRange.first + 1 == length, "\(length) bytes expected for \(shown)")
        try require(contentRange.first == (range?.lowerBound ?? 0), "a 206 starting elsewhere was accepted: \(shown)")
    }

    /// A decimal number, often close to the range's ends so that the checks' edges are reached.
    private static func number(_ recipe: inout FuzzInput, near range: ByteRange?) -> String {
        let anchors = [range?.lowerBound ?? 0, range?.upperBound ?? 0, ReferenceParsers.maxObjectSize, 0]
        let anchor = anchors[recipe.below(anchors.count)]
        let delta = UInt64(recipe.below(5))
        return String(recipe.flag() ? anchor &+ delta : anchor &- delta)
    }

    private static func receive(_ line: String, _ accumulator: ResponseAccumulator) { receive(Array(line.utf8), accumulator) }

    private static func receive(_ line: [UInt8], _ accumulator: ResponseAccumulator) {
        line.withUnsafeBytes { accumulator.receiveHeaderLine($0) }
    }
}

extension ByteRange {
    /// A non-empty range inside 2^51 bytes (beyond any object, so that the checks' limits are crossed).
    fileprivate init(_ recipe: inout FuzzInput) {
        let lower = recipe.flag() ? UInt64(recipe.below(8)) : recipe.uint64() % (1 << 51)
        let count = recipe.flag() ? 1 + UInt64(recipe.below(8)) : 1 + recipe.uint64() % (1 << 40)
        self.init(lower..<(lower + count))
    }
}
