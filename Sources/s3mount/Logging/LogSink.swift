import CShims
import CSystem
import Foundation
import Glibc
import Logging

/// Where the daemon's log lines go: stderr in the foreground, a file when --log-file is given, syslog otherwise.
enum LogSink: Sendable {
    case standardError
    case file(Int32)
    case syslog

    static func open(options: ProcessOptions, daemon: Bool) throws(MountFailure) -> LogSink {
        if let path = options.logFile {
            let fd = unsafe Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
            guard fd >= 0 else {
                let reason = unsafe String(cString: strerror(errno))
                throw MountFailure("cannot open --log-file \(path): \(reason); give a writable path")
            }
            return .file(fd)
        }
        if daemon {
            // A nil ident makes syslog use the program name; openlog keeps the pointer, so no temporary string.
            openlog(nil, LOG_PID, LOG_DAEMON)
            return .syslog
        }
        return .standardError
    }

    /// Makes a fatal signal leave one line here before the process dies.
    func logCrashes() {
        switch self {
        case .standardError: s3m_log_crashes(STDERR_FILENO, 0)
        case .file(let fd): s3m_log_crashes(fd, 0)
        case .syslog: s3m_log_crashes(-1, 1)
        }
    }

    func write(_ line: String, level: Logger.Level) {
        switch self {
        case .standardError: Self.writeAll(STDERR_FILENO, line + "\n")
        case .file(let fd): Self.writeAll(fd, line + "\n")
        case .syslog: unsafe s3m_syslog(Self.priority(level), line)
        }
    }

    private static func writeAll(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = unsafe bytes.withUnsafeMutableBytes { unsafe Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written <= 0 { return }
            offset += written
        }
    }

    private static func priority(_ level: Logger.Level) -> Int32 {
        switch level {
        case .trace, .debug: LOG_DEBUG
        case .info: LOG_INFO
        case .notice: LOG_NOTICE
        case .warning: LOG_WARNING
        case .error: LOG_ERR
        case .critical: LOG_CRIT
        }
    }
}
