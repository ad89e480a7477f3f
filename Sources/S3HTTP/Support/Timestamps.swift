// The three time formats S3 speaks, converted without Foundation formatters (which are slow and not
// thread-safe to share): SigV4's basic ISO 8601 (20150830T123600Z), LIST's extended ISO 8601 with
// milliseconds (2009-10-12T17:50:30.000Z) and HEAD's RFC 1123 (Mon, 12 Oct 2009 17:50:30 GMT).

package enum Timestamps {
    /// "yyyyMMdd'T'HHmmss'Z'" for SigV4's x-amz-date.
    package static func amzDate(epochSeconds: Int) -> String {
        let (days, secondsOfDay) = epochSeconds.quotientAndRemainderFloor(dividingBy: 86_400)
        let (year, month, day) = civil(fromDays: days)
        return pad(year, 4) + pad(month, 2) + pad(day, 2) + "T" + pad(secondsOfDay / 3600, 2)
            + pad(secondsOfDay / 60 % 60, 2) + pad(secondsOfDay % 60, 2) + "Z"
    }

    /// "2009-10-12T17:50:30Z", for log lines (credential expiry).
    static func iso8601(epochSeconds: Int) -> String {
        let (days, secondsOfDay) = epochSeconds.quotientAndRemainderFloor(dividingBy: 86_400)
        let (year, month, day) = civil(fromDays: days)
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(secondsOfDay / 3600, 2) + ":"
            + pad(secondsOfDay / 60 % 60, 2) + ":" + pad(secondsOfDay % 60, 2) + "Z"
    }

    /// Seconds since the epoch of "2009-10-12T17:50:30.000Z" (fraction and "Z" optional); nil if malformed.
    package static func parseISO8601(_ text: String) -> Double? {
        let u = Array(text.utf8)
        guard u.count >= 19, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"), u[10] == UInt8(ascii: "T"),
            u[13] == UInt8(ascii: ":"), u[16] == UInt8(ascii: ":"),
            let year = number(u[0..<4]), let month = number(u[5..<7]), let day = number(u[8..<10]),
            let hour = number(u[11..<13]), let minute = number(u[14..<16]), let second = number(u[17..<19])
        else { return nil }
        var rest = u[19...]
        var fraction = 0.0
        if rest.first == UInt8(ascii: ".") {
            let digits = rest.dropFirst().prefix { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
            guard !digits.isEmpty, let value = number(digits) else { return nil }
            fraction = Double(value) / pow10(digits.count)
            rest = rest.dropFirst(1 + digits.count)
        }
        guard rest.isEmpty || Array(rest) == Array("Z".utf8) else { return nil }
        return seconds(year, month, day, hour, minute, second).map { Double($0) + fraction }
    }

    /// Seconds since the epoch of an IMF-fixdate (RFC 9110), "Mon, 12 Oct 2009 17:50:30 GMT"; nil if malformed.
    /// Read byte by byte, every width and separator fixed. Splitting on spaces and colons took any weekday ("Rhu",
    /// found by the timestamps fuzz target), "17::50:30", "+12" and doubled spaces.
    package static func parseRFC1123(_ text: String) -> Double? {
        let u = Array(text.utf8)
        guard u.count == 29, u[3] == UInt8(ascii: ","), u[4] == UInt8(ascii: " "), u[7] == UInt8(ascii: " "),
            u[11] == UInt8(ascii: " "), u[16] == UInt8(ascii: " "), u[19] == UInt8(ascii: ":"),
            u[22] == UInt8(ascii: ":"), Array(u[25...]) == Array(" GMT".utf8),
            weekdays.contains(String(decoding: u[0..<3], as: UTF8.self)),
            let month = months.firstIndex(of: String(decoding: u[8..<11], as: UTF8.self)),
            let day = number(u[5..<7]), let year = number(u[12..<16]), let hour = number(u[17..<19]),
            let minute = number(u[20..<22]), let second = number(u[23..<25])
        else { return nil }
        return seconds(year, month + 1, day, hour, minute, second).map(Double.init)
    }

    private static let weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private static func seconds(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int, _ second: Int)
        -> Int?
    {
        // Four-digit years only: a server's absurd year must not overflow the day arithmetic below. Days past the
        // month's end are refused, not carried into the next month (September 31 read as October 1 before the
        // timestamps fuzz target found it).
        guard (0...9999).contains(year), (1...12).contains(month), (1...daysIn(month, of: year)).contains(day),
            (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        return days(fromCivil: year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
    }

    private static func daysIn(_ month: Int, of year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian calendar).
    private static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for digit in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit), value < Int.max / 100 else { return nil }
            value = value * 10 + Int(digit - UInt8(ascii: "0"))
        }
        return digits.isEmpty ? nil : value
    }

    private static func pow10(_ exponent: Int) -> Double {
        (0..<exponent).reduce(1.0) { value, _ in value * 10 }
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

extension Int {
    /// Division rounding towards negative infinity, with a non-negative remainder.
    fileprivate func quotientAndRemainderFloor(dividingBy divisor: Int) -> (Int, Int) {
        let (q, r) = quotientAndRemainder(dividingBy: divisor)
        return r < 0 ? (q - 1, r + divisor) : (q, r)
    }
}
