// The signals the processes act on, handled on a dispatch thread, not in signal context. The daemon unmounts once
// and exits 0 on SIGINT or SIGTERM (FuseMount.requestExit) and reopens its log file on SIGHUP (logrotate's
// convention); `s3mount prefetch` stops on all three. SIGPIPE is ignored from the start: a log line written to a
// stderr pipe nobody reads any more (or a socket the server closed) fails with EPIPE instead of killing the daemon.
import Dispatch
import Glibc

enum ExitSignals {
    /// Called first thing in main, before any thread or pipe exists.
    static func ignoreBrokenPipes() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Calls `handler` with the signal's name on each SIGINT or SIGTERM, and on SIGHUP when `hangup` says so;
    /// keep the sources alive.
    static func install(
        _ handler: @escaping @Sendable (String) -> Void, hangup: Bool = true
    ) -> [any DispatchSourceSignal] {
        let signals = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] + (hangup ? [(SIGHUP, "SIGHUP")] : [])
        return signals.map { number, name in watch(number) { handler(name) } }
    }

    /// Calls `handler` on each SIGHUP; keep the source alive.
    static func onHangup(_ handler: @escaping @Sendable () -> Void) -> any DispatchSourceSignal {
        watch(SIGHUP, handler)
    }

    private static func watch(_ number: Int32, _ handler: @escaping @Sendable () -> Void) -> any DispatchSourceSignal {
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler(handler: handler)
        source.resume()
        return source
    }
}
