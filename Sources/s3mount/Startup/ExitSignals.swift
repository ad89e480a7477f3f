// The signals the daemon acts on. SIGINT, SIGTERM and SIGHUP unmount once and exit 0 (FuseMount.requestExit); the
// handler runs on a dispatch thread, not in signal context. SIGPIPE is ignored from the start: a log line written to a
// stderr pipe nobody reads any more (or a socket the server closed) fails with EPIPE instead of killing the daemon.
import Dispatch
import Glibc

enum ExitSignals {
    /// Called first thing in main, before any thread or pipe exists.
    static func ignoreBrokenPipes() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Calls `handler` with the signal's name on each SIGINT, SIGTERM or SIGHUP; keep the sources alive.
    static func install(_ handler: @escaping @Sendable (String) -> Void) -> [any DispatchSourceSignal] {
        [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP")].map { number, name in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(name) }
            source.resume()
            return source
        }
    }
}
