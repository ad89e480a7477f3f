// SigningChecks: SigV4 canonicalisation and URIEncoding. Percent-encoding must round-trip every string and use only
// unreserved characters and %XX; the canonical request must not depend on the order of query parameters or of
// headers with different names, must keep its line structure, and must give each header value trimmed with single
// spaces.

import S3HTTP

enum SigningChecks {
    static func check(_ input: [UInt8]) throws(InvariantViolation) {
        var recipe = FuzzInput(input)
        let path = "/" + recipe.string(maxCount: 40)
        try roundTrip(path, URIEncoding.canonicalPath(path), keepSlash: true)
        var query: [(name: String, value: String)] = []
        for _ in 0..<recipe.below(5) { query.append((recipe.string(maxCount: 12), recipe.string(maxCount: 16))) }
        for (name, value) in query {
            try roundTrip(name, URIEncoding.encode(name), keepSlash: false)
            try roundTrip(value, URIEncoding.encode(value), keepSlash: false)
        }
        // Header values as a server could make us echo them (ETags, keys) never hold control characters.
        var headers: [(name: String, value: String)] = [("host", "127.0.0.1:7480"), ("x-amz-date", "20261130T064500Z")]
        for _ in 0..<recipe.below(5) {
            let name = ["x-amz-meta-a", "X-Amz-Meta-A", "range", "x-amz-copy-source-if-match", "x-amz-meta-b"][recipe.below(5)]
            headers.append((name, String(recipe.string(maxCount: 20).unicodeScalars.filter { $0.value >= 0x20 && $0 != "\u{7F}" })))
        }
        let request = SignableRequest(method: "GET", path: path, query: query, headers: headers, payloadHash: "UNSIGNED-PAYLOAD")
        let canonical = SigV4Signer.canonicalRequest(request)
        try require(SigV4Signer.canonicalRequest(request) == canonical, "canonicalisation is not deterministic")

        var shuffled = request
        shuffled.query.reverse()
        shuffled.headers = stableReorder(request.headers)
        try require(
            SigV4Signer.canonicalRequest(shuffled) == canonical,
            "reordering the query or headers changed the canonical request:\n\(canonical.text)\n---\n\(SigV4Signer.canonicalRequest(shuffled).text)")

        let names = Set(headers.map { $0.name.lowercased() })
        let lines = canonical.text.split(separator: "\n", omittingEmptySubsequences: false)
        try require(lines.count == 6 + names.count, "the canonical request has \(lines.count) lines:\n\(canonical.text)")
        try require(canonical.signedHeaders == names.sorted().joined(separator: ";"), "signed headers \(canonical.signedHeaders)")
        for line in lines[3..<(3 + names.count)] {
            let value = line.drop { $0 != ":" }.dropFirst()
            try require(
                !value.hasPrefix(" ") && !value.hasSuffix(" ") && !value.contains("  "), "header line \(line.debugDescription)")
        }
        let pairs = lines[2].split(separator: "&").map { $0.split(separator: "=", omittingEmptySubsequences: false) }
        try require(pairs.count == query.count && pairs.allSatisfy { $0.count == 2 }, "query line \(lines[2])")
        let decoded = pairs.map { [URIEncoding.decodeFormEncoded(String($0[0])), URIEncoding.decodeFormEncoded(String($0[1]))] }
        // SigV4 sorts by the encoded name, then the encoded value, byte by byte.
        let sortedPairs = query.sorted { a, b in
            let (nameA, nameB) = (Array(URIEncoding.encode(a.name).utf8), Array(URIEncoding.encode(b.name).utf8))
            return nameA == nameB
                ? Array(URIEncoding.encode(a.value).utf8).lexicographicallyPrecedes(URIEncoding.encode(b.value).utf8)
                : nameA.lexicographicallyPrecedes(nameB)
        }
        try require(
            decoded.map { $0.map { $0.map { Array($0.utf8) } } } == sortedPairs.map { [Array($0.name.utf8), Array($0.value.utf8)] },
            "query line \(lines[2]) for \(query)")
    }

    /// The headers in another order, those of one name kept in their order (SigV4 joins their values in order).
    private static func stableReorder(_ headers: [(name: String, value: String)]) -> [(name: String, value: String)] {
        let names = headers.map { $0.name.lowercased() }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        return names.reversed().flatMap { name in headers.filter { $0.name.lowercased() == name } }
    }

    private static func roundTrip(_ text: String, _ encoded: String, keepSlash: Bool) throws(InvariantViolation) {
        let bytes = Array(encoded.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                try require(
                    index + 2 < bytes.count && bytes[(index + 1)...(index + 2)].allSatisfy(isUpperHex),
                    "\(encoded) has a bad escape")
                index += 3
                continue
            }
            try require(isUnreserved(byte) || (keepSlash && byte == UInt8(ascii: "/")), "\(encoded) keeps \(byte)")
            index += 1
        }
        // decodeFormEncoded reads "+" as a space; the encoder never leaves a "+", so it decodes exactly.
        try require(
            URIEncoding.decodeFormEncoded(encoded).map { Array($0.utf8) } == Array(text.utf8),
            "\(text.debugDescription) encoded as \(encoded) does not decode back")
    }

    private static func isUpperHex(_ byte: UInt8) -> Bool {
        ReferenceParsers.isDigit(byte) || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        ReferenceParsers.isDigit(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || "-._~".utf8.contains(byte)
    }
}
