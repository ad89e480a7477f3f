import ArgumentParser

/// A size in bytes written as a number with an optional binary unit: 8M, 512K, 2G, 1048576 (K/M/G/T = 2^10…2^40,
/// with or without "iB").
struct ByteSize: ExpressibleByArgument, Sendable, Equatable {
    var bytes: Int

    init(bytes: Int) { self.bytes = bytes }

    init?(argument: String) {
        let units: [(String, Int)] = [("TIB", 1 << 40), ("GIB", 1 << 30), ("MIB", 1 << 20), ("KIB", 1 << 10),
                                      ("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10), ("B", 1)]
        let text = argument.uppercased()
        let (digits, scale) = units.first { text.hasSuffix($0.0) }.map { (String(text.dropLast($0.0.count)), $0.1) }
            ?? (text, 1)
        guard let value = Int(digits), value >= 0, value <= Int.max / scale else { return nil }
        bytes = value * scale
    }

    static func parse(_ argument: String) throws -> ByteSize {
        guard let size = ByteSize(argument: argument) else {
            throw ValidationError("a size must be a number with an optional unit K, M, G or T (e.g. 8M, 2G), got '\(argument)'")
        }
        return size
    }

    var defaultValueDescription: String { Self.describe(bytes) }

    static func describe(_ bytes: Int) -> String {
        for (unit, scale) in [("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)] where bytes >= scale && bytes % scale == 0 {
            return "\(bytes / scale)\(unit)"
        }
        return "\(bytes)"
    }
}
