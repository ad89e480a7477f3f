// ListingChecks: the XML readers of LIST pages and error bodies. An input starting with "<" is the document itself
// (the reader must not trap, and what it accepts must keep its promises); any other input is a recipe for a page as
// a server would write it, which must read back as the recipe says.

import ObjectStore
import S3HTTP

enum ListingChecks {
    static func listObjects(_ input: [UInt8]) throws(InvariantViolation) {
        if input.first == UInt8(ascii: "<") {
            try rawListing(input)
        } else {
            try builtListing(FuzzInput(input))
        }
    }

    static func errorDocument(_ input: [UInt8]) throws(InvariantViolation) {
        if input.first == UInt8(ascii: "<") {
            let first = try? ErrorDocumentReader.read(input)
            try require(first == (try? ErrorDocumentReader.read(input)), "two reads of one error body differ")
            if let first { try require(!first.code.isEmpty, "an error document read with an empty <Code>") }
            return
        }
        var recipe = FuzzInput(input)
        let code = XMLText.representable(recipe.string(maxCount: 24))
        let message = XMLText.representable(recipe.string(maxCount: 64))
        let requestID = recipe.flag() ? XMLText.representable(recipe.string(maxCount: 24)) : nil
        let body =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>" + XMLText.element("Code", code)
            + XMLText.element("Message", message) + (requestID.map { XMLText.element("RequestId", $0) } ?? "")
            + "<Resource>/b/k</Resource></Error>"
        let read = try? ErrorDocumentReader.read(Array(body.utf8))
        if code.isEmpty {
            try require(read == nil, "an error document with an empty <Code> was read: \(body.debugDescription)")
        } else {
            try require(
                read?.code == code && read?.message == message && read?.requestID == requestID,
                "\(body.debugDescription) read as \(String(describing: read))")
        }
    }

    /// What any page the reader accepts must hold, whatever the document.
    private static func rawListing(_ body: [UInt8]) throws(InvariantViolation) {
        let page: ListPage
        do {
            page = try ListObjectsV2Reader.read(body)
        } catch {
            return
        }
        try require(page == (try? ListObjectsV2Reader.read(body)), "two reads of one page differ")
        try require(page.nextContinuationToken.map { !$0.isEmpty } ?? true, "an empty continuation token")
        for object in page.objects {
            try require(object.size <= ReferenceParsers.maxObjectSize, "object \(object.key) of size \(object.size)")
            try require(object.lastModified.isFinite, "object \(object.key) modified at \(object.lastModified)")
            try require(
                isHeaderSafe(object.etag.value),
                "object \(object.key) has ETag \(object.etag.value.debugDescription), which cannot go back in a header")
        }
    }

    /// One <Contents> of a recipe and what the reader must make of it.
    private struct Entry {
        var xml: String
        var expected: ObjectInfo?
        var anomalies: Int
    }

    private static func builtListing(_ recipe: FuzzInput) throws(InvariantViolation) {
        var recipe = recipe
        let urlEncoded = recipe.flag()
        let truncated = recipe.flag()
        let token = XMLText.representable(recipe.string(maxCount: 16))
        var entries: [Entry] = []
        for _ in 0..<recipe.below(6) { entries.append(entry(&recipe, urlEncoded: urlEncoded)) }
        var prefixes: [(xml: String, expected: String?)] = []
        for _ in 0..<recipe.below(4) {
            let (raw, expected) = key(&recipe, urlEncoded: urlEncoded)
            prefixes.append(("<CommonPrefixes>\(XMLText.element("Prefix", raw))</CommonPrefixes>", expected))
        }
        var body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        body += "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>bucket</Name><Prefix></Prefix>"
        body += "<KeyCount>\(entries.count)</KeyCount><MaxKeys>1000</MaxKeys>"
        body += urlEncoded ? "<EncodingType>url</EncodingType>" : ""
        body += "<IsTruncated>\(truncated)</IsTruncated>" + (token.isEmpty ? "" : XMLText.element("NextContinuationToken", token))
        body += entries.map(\.xml).joined() + prefixes.map(\.xml).joined() + "</ListBucketResult>"

        let shown = "\(body.debugDescription)"
        let page: ListPage
        do {
            page = try ListObjectsV2Reader.read(Array(body.utf8))
        } catch {
            try require(truncated && token.isEmpty, "a well-formed page was refused (\(error)): \(shown)")
            return
        }
        try require(!(truncated && token.isEmpty), "a truncated page without a token was accepted: \(shown)")
        try require(page.nextContinuationToken == (truncated ? token : nil), "token \(String(describing: page.nextContinuationToken)) in \(shown)")
        let objects = entries.compactMap(\.expected)
        try require(page.objects == objects, "objects \(page.objects), expected \(objects), in \(shown)")
        let commonPrefixes = prefixes.compactMap(\.expected)
        try require(page.commonPrefixes == commonPrefixes, "prefixes \(page.commonPrefixes), expected \(commonPrefixes), in \(shown)")
        let anomalies = entries.map(\.anomalies).reduce(0, +) + prefixes.filter { $0.expected == nil }.count
        try require(page.anomalies.count == anomalies, "\(page.anomalies.count) anomalies, expected \(anomalies), in \(shown)")
    }

    /// A <Contents> element: a key (maybe undecodable), a size and a time (maybe garbage), an ETag.
    private static func entry(_ recipe: inout FuzzInput, urlEncoded: Bool) -> Entry {
        let (rawKey, key) = key(&recipe, urlEncoded: urlEncoded)
        let sizeText = recipe.flag() ? String(recipe.uint64() % (ReferenceParsers.maxObjectSize + 2)) : XMLText.representable(recipe.string(maxCount: 8))
        let timeText = recipe.flag() ? validTime(&recipe) : XMLText.representable(recipe.string(maxCount: 28))
        let etag = XMLText.representable(recipe.string(maxCount: 36))
        let xml =
            "<Contents>" + XMLText.element("Key", rawKey) + XMLText.element("LastModified", timeText)
            + XMLText.element("ETag", etag) + XMLText.element("Size", sizeText) + "<StorageClass>STANDARD</StorageClass></Contents>"
        guard let key, let size = ReferenceParsers.size(sizeText) else { return Entry(xml: xml, expected: nil, anomalies: 1) }
        let time = ReferenceParsers.iso8601(timeText).flatMap { parsed -> Double? in
            guard let seconds = parsed.time.secondsSinceEpoch, parsed.fraction.count <= 17 else { return nil }
            return Double(seconds) + (parsed.fraction.isEmpty ? 0 : Double("0." + parsed.fraction)!)
        }
        // Trimmed, and none (with an anomaly) when it holds a control character that cannot go back in a header.
        let spaces: Set<UInt8> = [0x20, 0x09, 0x0D, 0x0A]
        let trimmed = String(decoding: etag.utf8.drop(while: spaces.contains).reversed().drop(while: spaces.contains).reversed(), as: UTF8.self)
        let usableETag = isHeaderSafe(trimmed)
        return Entry(
            xml: xml, expected: ObjectInfo(key: key, size: size, lastModified: time ?? 0, etag: ETag(usableETag ? trimmed : "")),
            anomalies: (time == nil ? 1 : 0) + (usableETag ? 0 : 1))
    }

    /// A key as the page carries it, and as the reader must give it back (nil: undecodable, left out).
    private static func key(_ recipe: inout FuzzInput, urlEncoded: Bool) -> (raw: String, expected: String?) {
        guard urlEncoded else {
            let key = XMLText.representable(recipe.string(maxCount: 24))
            return (key, key)
        }
        // Raw bytes, maybe not UTF-8, percent-encoded as S3 does (a space as "+" or "%20").
        let bytes = recipe.chunk(maxCount: 24)
        let plus = recipe.flag()
        let hex = Array("0123456789ABCDEF".utf8)
        var raw: [UInt8] = []
        for byte in bytes {
            if byte == 0x20 && plus {
                raw.append(UInt8(ascii: "+"))
            } else if byte.isUnreservedASCII {
                raw.append(byte)
            } else {
                raw += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return (String(decoding: raw, as: UTF8.self), String(validating: bytes, as: UTF8.self))
    }

    /// A LIST time as S3 writes it ("2009-10-12T17:50:30.000Z"), its fields from the recipe (some impossible).
    private static func validTime(_ recipe: inout FuzzInput) -> String {
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let year = 1960 + recipe.below(150)
        let fraction = String(recipe.below(256) * 3 % 1000)
        return "\(year)-\(two(1 + recipe.below(12)))-\(two(1 + recipe.below(31)))T\(two(recipe.below(24))):"
            + "\(two(recipe.below(60))):\(two(recipe.below(61))).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)Z"
    }

    /// True when `value` can be sent back in a request header (If-Match): no control character.
    static func isHeaderSafe(_ value: String) -> Bool {
        value.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x7F }
    }
}

extension UInt8 {
    /// RFC 3986 unreserved.
    fileprivate var isUnreservedASCII: Bool {
        switch self {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default: false
        }
    }
}
