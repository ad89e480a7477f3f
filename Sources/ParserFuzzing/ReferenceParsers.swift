// ReferenceParsers: slow, obviously-correct readings of the numbers, ranges and times a server sends, written
// independently of S3HTTP's (a different calendar formula, grammar checked byte by byte), for differential checks.

enum ReferenceParsers {
    static let maxObjectSize: UInt64 = 1 << 50

    /// ASCII digits only, at most `maxObjectSize`.
    static func size(_ text: some StringProtocol) -> UInt64? {
        guard !text.isEmpty, text.utf8.allSatisfy(isDigit), let value = UInt64(text), value <= maxObjectSize else {
            return nil
        }
        return value
    }

    /// "bytes first-last/total" or "bytes first-last/*", first <= last < total.
    static func contentRange(_ text: String) -> (first: UInt64, last: UInt64, total: UInt64?)? {
        let bytes = Array(text.utf8)
        let prefix = Array("bytes ".utf8)
        guard bytes.starts(with: prefix), let dash = bytes[prefix.count...].firstIndex(of: UInt8(ascii: "-")),
            let slash = bytes[dash...].firstIndex(of: UInt8(ascii: "/"))
        else { return nil }
        guard let first = size(String(decoding: bytes[prefix.count..<dash], as: UTF8.self)),
            let last = size(String(decoding: bytes[(dash + 1)..<slash], as: UTF8.self)), first <= last
        else { return nil }
        let totalText = String(decoding: bytes[(slash + 1)...], as: UTF8.self)
        if totalText == "*" { return (first, last, nil) }
        guard let total = size(totalText), last < total else { return nil }
        return (first, last, total)
    }

    /// A calendar time: fields as written, validated, and its seconds since the epoch.
    struct CivilTime {
        var year, month, day, hour, minute, second: Int

        /// nil unless it names a real instant (February 29 only in leap years; second 60 for a leap second).
        var secondsSinceEpoch: Int? {
            guard (0...9999).contains(year), (1...12).contains(month), (1...daysIn(month)).contains(day),
                (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
            else { return nil }
            let monthDays = (1..<month).reduce(0) { $0 + daysIn($1) }
            let days = daysBefore(year: year) - daysBefore(year: 1970) + monthDays + day - 1
            return days * 86_400 + hour * 3600 + minute * 60 + second
        }

        private var isLeap: Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

        private func daysIn(_ month: Int) -> Int {
            switch month {
            case 2: isLeap ? 29 : 28
            case 4, 6, 9, 11: 30
            default: 31
            }
        }

        /// Days from 0000-01-01 to `year`-01-01 (year 0 is a leap year in the proleptic Gregorian calendar).
        private func daysBefore(year: Int) -> Int {
            365 * year + (year + 3) / 4 - (year + 99) / 100 + (year + 399) / 400
        }
    }

    /// "YYYY-MM-DDTHH:MM:SS" with an optional ".fraction" and an optional "Z": the time and the fraction's digits.
    static func iso8601(_ text: String) -> (time: CivilTime, fraction: String)? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 19, let time = civil(bytes, "dddd-dd-ddTdd:dd:dd") else { return nil }
        var rest = bytes[19...]
        var fraction = ""
        if rest.first == UInt8(ascii: ".") {
            let digits = rest.dropFirst().prefix(while: isDigit)
            guard !digits.isEmpty else { return nil }
            fraction = String(decoding: digits, as: UTF8.self)
            rest = rest.dropFirst(1 + digits.count)
        }
        guard rest.isEmpty || Array(rest) == [UInt8(ascii: "Z")] else { return nil }
        return (time, fraction)
    }

    static let dayNames = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// IMF-fixdate (RFC 9110): "Sun, 06 Nov 1994 08:49:37 GMT"; the weekday must be a day name but is not checked
    /// against the date.
    static func rfc1123(_ text: String) -> CivilTime? {
        let bytes = Array(text.utf8)
        guard bytes.count == 29, dayNames.contains(String(decoding: bytes[0..<3], as: UTF8.self)),
            let month = monthNames.firstIndex(of: String(decoding: bytes[8..<11], as: UTF8.self)),
            var time = civil(bytes, "www, dd mmm dddd dd:dd:dd GMT")
        else { return nil }
        time.month = month + 1
        return time
    }

    /// Reads `bytes` against `pattern`: "d" a digit, "w" and "m" any byte (checked by the caller), anything else
    /// literally. Fields in the order year, month, day, hour, minute, second for ISO; day, year, hour, minute,
    /// second for IMF (whose month is a name).
    private static func civil(_ bytes: [UInt8], _ pattern: String) -> CivilTime? {
        let shape = Array(pattern.utf8)
        guard bytes.count >= shape.count else { return nil }
        var numbers: [Int] = []
        var current: Int?
        for (byte, expected) in zip(bytes, shape) {
            if expected == UInt8(ascii: "d") {
                guard isDigit(byte) else { return nil }
                current = (current ?? 0) * 10 + Int(byte - UInt8(ascii: "0"))
                continue
            }
            if let value = current { numbers.append(value) }
            current = nil
            if expected != UInt8(ascii: "w"), expected != UInt8(ascii: "m"), byte != expected { return nil }
        }
        if let value = current { numbers.append(value) }
        if numbers.count == 6 {
            return CivilTime(
                year: numbers[0], month: numbers[1], day: numbers[2], hour: numbers[3], minute: numbers[4],
                second: numbers[5])
        }
        guard numbers.count == 5 else { return nil }
        return CivilTime(
            year: numbers[1], month: 0, day: numbers[0], hour: numbers[2], minute: numbers[3], second: numbers[4])
    }

    static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
}
