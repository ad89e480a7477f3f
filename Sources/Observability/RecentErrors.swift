// RecentErrors: the last few errors answered to applications (operation, errno, message, when), for
// `s3mount status`. Errors are rare next to operations, so a lock here costs nothing on the hot path.
import Foundation
import Synchronization

public final class RecentErrors: Sendable {
    public struct Entry: Codable, Sendable, Equatable {
        public var time: Double
        public var operation: String
        public var errno: Int32
        public var message: String
    }

    private let capacity: Int
    private let entries = Mutex<[Entry]>([])

    public init(capacity: Int = 10) { self.capacity = capacity }

    public func note(operation: String, errno: Int32, message: String) {
        let entry = Entry(time: Date().timeIntervalSince1970, operation: operation, errno: errno, message: message)
        entries.withLock { entries in
            if entries.count == capacity { entries.removeFirst() }
            entries.append(entry)
        }
    }

    /// Oldest first.
    public var all: [Entry] { entries.withLock { $0 } }
}
