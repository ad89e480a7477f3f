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

    @Option(help: "Serve Prometheus metrics at http://HOST:PORT/metrics (e.g. 127.0.0.1:9464; a bare PORT is loopback). Off by default.")
    var metricsAddress: ListenAddress?

    @Option(help: "Threads that take requests from the kernel, 1 to 256 (default 16). A read served from the cache tier holds its thread for the disk read, so this is also how many such reads run at once.")
    var maxThreads: UInt32 = 16

    mutating func validate() throws {
        guard (1...256).contains(maxThreads) else {
            throw ValidationError("--max-threads must be between 1 and 256, got \(maxThreads)")
        }
    }
}
