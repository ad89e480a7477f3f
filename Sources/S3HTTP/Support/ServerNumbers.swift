// Numbers a server sends (Content-Length, Content-Range, LIST sizes) are read strictly: ASCII digits only (no sign,
// no spaces), no overflow, and no larger than any object can be. Anything else is not a number, so a garbled or
// hostile answer becomes a malformed-response error instead of a trap in later arithmetic.

package enum ServerNumbers {
    /// 1 PiB: above S3's largest object (50 TB). A size beyond it is a garbled answer, and every size at or below it
    /// leaves room for `offset + size` and for conversion to off_t without overflow.
    package static let maxObjectSize: UInt64 = 1 << 50

    /// The value of `text` when it is a plain decimal number no larger than `maxObjectSize`.
    package static func size(_ text: some StringProtocol) -> UInt64? {
        guard !text.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in text.utf8 {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
            // Checked at every digit, so `value * 10` above never comes near UInt64's limit.
            guard value <= maxObjectSize else { return nil }
        }
        return value
    }
}
