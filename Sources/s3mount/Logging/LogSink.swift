import CShims
import CSystem
import Foundation
import Glibc
import Logging

/// Where the daemon's log lines go: stderr in the foreground, a file when --log-file is given, syslog otherwise.
enum LogSink: Sendable {
    case standardError
    case file(Int32, path: String)
    case syslog

    static func open(options: ProcessOptions, daemon: Bool) throws(MountFailure) -> LogSink {
        if let path = options.logFile {
            let fd = try openLogFile(path)
            return .file(fd, path: path)
        }
        if daemon {
            // A nil ident makes syslog use the program name; openlog keeps the pointer, so no temporary string.
            openlog(nil, LOG_PID, LOG_DAEMON)
            return .syslog
        }
        return .standardError
    }

    private static func openLogFile(_ path: String) throws(MountFailure) -> Int32 {
        let fd = unsafe Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            let reason = unsafe String(cString: strerror(errno))
            throw MountFailure("cannot open --log-file \(path): \(reason); give a writable path")
        }
        return fd
    }

    /// After logrotate moved the log file away: opens the path again and puts the new file under the same
    /// descriptor (dup2 swaps it atomically), so a line being written meanwhile lands in the old file or the new
    /// one, never in whatever file would otherwise reuse a closed descriptor's number. Returns what happened, for
    /// the log; stderr and syslog have nothing to reopen.
    func reopen() -> String {
        guard case .file(let fd, let path) = self else { return "nothing to reopen (logging to \(self.name))" }
        do {
            let fresh = try Self.openLogFile(path)
            dup2(fresh, fd)
            close(fresh)
            return "reopened \(path)"
        } catch {
            return "kept the old log file: \(error.description)"
        }
    }

    private var name: String {
        switch self {
        case .standardError: "stderr"
        case .file(_, let path): path
        case .syslog: "syslog"
        }
    }

    /// Makes a fatal signal leave one line here before the process dies.
    func logCrashes() {
        switch self {
        case .standardError: s3m_log_crashes(STDERR_FILENO, 0)
        case .file(let fd, _): s3m_log_crashes(fd, 0)
        case .syslog: s3m_log_crashes(-1, 1)
        }
    }

    func write(_ line: String, level: Logger.Level) {
        switch self {
        case .standardError: Self.writeAll(STDERR_FILENO, line + "\n")
        case .file(let fd, _): Self.writeAll(fd, line + "\n")
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
