// TimestampChecks: LIST's ISO 8601 and HEAD's IMF-fixdate times against ReferenceParsers: a time is read only when
// it names a real instant written in the format, and then as the same number of seconds.

import S3HTTP

enum TimestampChecks {
    static func check(_ input: [UInt8]) throws(InvariantViolation) {
        let text = String(decoding: input, as: UTF8.self)
        try iso8601(text)
        try rfc1123(text)
        // The same times, written correctly from the input's fields, so that most inputs reach the arithmetic.
        var recipe = FuzzInput(input)
        let fields = (0..<6).map { _ in Int(recipe.byte()) << 8 | Int(recipe.byte()) }
        let time = ReferenceParsers.CivilTime(
            year: fields[0] % 10_000, month: fields[1] % 14, day: fields[2] % 33, hour: fields[3] % 25,
            minute: fields[4] % 61, second: fields[5] % 62)
        try iso8601(
            "\(digits(time.year, 4))-\(digits(time.month, 2))-\(digits(time.day, 2))T\(digits(time.hour, 2)):"
                + "\(digits(time.minute, 2)):\(digits(time.second, 2)).\(digits(fields[0] % 1000, 3))Z")
        let dayName = ReferenceParsers.dayNames[fields[1] % 7]
        let monthName = ReferenceParsers.monthNames[max(0, min(11, time.month - 1))]
        try rfc1123(
            "\(dayName), \(digits(time.day, 2)) \(monthName) \(digits(time.year, 4)) \(digits(time.hour, 2)):"
                + "\(digits(time.minute, 2)):\(digits(time.second, 2)) GMT")
    }

    private static func iso8601(_ text: String) throws(InvariantViolation) {
        let value = Timestamps.parseISO8601(text)
        let reference = ReferenceParsers.iso8601(text).flatMap { parsed -> Double? in
            guard let seconds = parsed.time.secondsSinceEpoch else { return nil }
            return Double(seconds) + (parsed.fraction.isEmpty ? 0 : Double("0." + parsed.fraction)!)
        }
        let shown = "\(text.debugDescription) read as \(String(describing: value)), reference \(String(describing: reference))"
        if let value {
            try require(reference.map { abs($0 - value) < 1e-6 } ?? false, shown)
        } else {
            // The parser may refuse absurdly long fractions (over 17 digits); nothing else the reference takes.
            let fractionDigits = ReferenceParsers.iso8601(text)?.fraction.count ?? 0
            try require(reference == nil || fractionDigits > 17, shown)
        }
    }

    private static func rfc1123(_ text: String) throws(InvariantViolation) {
        let value = Timestamps.parseRFC1123(text)
        let reference = ReferenceParsers.rfc1123(text)?.secondsSinceEpoch.map(Double.init)
        try require(
            value == reference,
            "\(text.debugDescription) read as \(String(describing: value)), reference \(String(describing: reference))")
    }

    private static func digits(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}
