import ArgumentParser
import Logging

/// How the daemon runs and reports.
struct ProcessOptions: ParsableArguments {
    @Flag(name: [.customShort("f"), .long], help: "Stay in the foreground and log to stderr.")
    var foreground = false

    @Option(help: "Least severe log level written: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .notice

    @Option(help: "Append log lines to this file (default: stderr in the foreground, syslog as a daemon).")
    var logFile: String?
}
