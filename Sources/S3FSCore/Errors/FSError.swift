#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// The one error the filesystem core throws: an errno for the kernel, a message for the log, and how loud the
/// bridge should log it (a missing file is routine; a failed read is not).
public struct FSError: Error, Sendable, CustomStringConvertible {
    public var errno: Int32
    public var message: String
    public var logLevel: Logger.Level

    public init(errno: Int32, _ message: String, logLevel: Logger.Level = .warning) {
        self.errno = errno
        self.message = message
        self.logLevel = logLevel
    }

    public var description: String { "\(message) (errno \(errno))" }

    static func notFound(_ what: String) -> FSError { FSError(errno: ENOENT, "\(what): not found", logLevel: .debug) }
    static func readOnly(_ what: String) -> FSError {
        FSError(errno: EROFS, "\(what): the mount is read-only", logLevel: .debug)
    }
    /// Read-ahead called off because nobody needed it any more; a reader that meets it fetches again.
    static func cancelled(_ key: String) -> FSError {
        FSError(errno: ECANCELED, "read-ahead of \(key) called off", logLevel: .debug)
    }
    static func badHandle(_ handle: UInt64) -> FSError { FSError(errno: EBADF, "unknown handle \(handle)") }
}
