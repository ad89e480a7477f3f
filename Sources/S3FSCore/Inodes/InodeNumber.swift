/// A FUSE inode number. 1 is the root (FUSE_ROOT_ID); numbers are never reused within a mount.
public struct InodeNumber: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static let root = InodeNumber(1)
    public static func < (a: InodeNumber, b: InodeNumber) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "ino \(rawValue)" }
}
