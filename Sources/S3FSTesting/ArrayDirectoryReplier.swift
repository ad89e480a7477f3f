import S3FSCore

/// A `DirectoryReplier` that collects entries into an array holding at most `capacity` of them, standing in for
/// the bridge's fixed-size FUSE reply buffer: once full, `add` refuses, as `fuse_add_direntry` does.
public struct ArrayDirectoryReplier: DirectoryReplier {
    public let capacity: Int
    public private(set) var entries: [DirectoryEntry] = []
    /// How many entries were offered and did not fit.
    public private(set) var refused = 0

    public init(capacity: Int = .max) {
        precondition(capacity >= 0)
        self.capacity = capacity
    }

    public mutating func add(_ entry: DirectoryEntry) -> Bool {
        guard entries.count < capacity else {
            refused += 1
            return false
        }
        entries.append(entry)
        return true
    }

    public var names: [String] { entries.map(\.name) }

    /// The offset to pass to the next readdir: after the last entry taken, or `start` when none fit.
    public func nextOffset(after start: UInt64) -> UInt64 { entries.last?.nextOffset ?? start }
}
