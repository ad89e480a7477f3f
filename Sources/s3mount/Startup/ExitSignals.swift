import Dispatch
import Glibc

/// SIGINT, SIGTERM and SIGHUP unmount cleanly: the handler runs on a dispatch thread, not in signal context.
enum ExitSignals {
    static func install(_ handler: @escaping @Sendable () -> Void) -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM, SIGHUP].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            return source
        }
    }
}
