// FuzzInput: reads fuzzer bytes as a recipe (flags, small numbers, strings), so that every byte string describes
// some well-formed server answer. Reading past the end yields zeros, never a failure.

struct FuzzInput {
    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isExhausted: Bool { position >= bytes.count }

    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func flag() -> Bool { byte() & 1 == 1 }

    /// A number in 0..<bound (bound <= 256).
    mutating func below(_ bound: Int) -> Int { Int(byte()) % bound }

    mutating func uint64() -> UInt64 { (0..<8).reduce(0) { value, _ in value << 8 | UInt64(byte()) } }

    /// Up to `maxCount` raw bytes, the count read first.
    mutating func chunk(maxCount: Int) -> [UInt8] {
        let count = below(maxCount + 1)
        return (0..<count).map { _ in byte() }
    }

    /// A string of up to `maxCount` bytes; invalid UTF-8 becomes U+FFFD. Bytes 0xF0... give 4-byte characters.
    mutating func string(maxCount: Int) -> String { String(decoding: chunk(maxCount: maxCount), as: UTF8.self) }
}
