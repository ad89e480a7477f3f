import ArgumentParser

/// Permission bits given in octal, as chmod takes them ("644", "0755").
struct FileMode: ExpressibleByArgument, Sendable, Equatable {
    var bits: UInt32

    init?(argument: String) {
        guard !argument.isEmpty, argument.count <= 5, let bits = UInt32(argument, radix: 8), bits <= 0o7777 else {
            return nil
        }
        self.bits = bits
    }

    init(bits: UInt32) { self.bits = bits }

    /// For `@Option(transform:)`: the same parse, with a message that says what is expected.
    static func parse(_ argument: String) throws -> FileMode {
        guard let mode = FileMode(argument: argument) else {
            throw ValidationError("a mode must be octal permission bits such as 0644 or 0755, got '\(argument)'")
        }
        return mode
    }

    var defaultValueDescription: String { "0" + String(bits, radix: 8) }
}
