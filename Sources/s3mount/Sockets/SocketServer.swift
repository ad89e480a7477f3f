// SocketServer: the accept loop every server here shares (/metrics, the control socket, the Docker volume
// plugin): one connection at a time, each answered, then closed. Each accepted connection has receive/send
// timeouts, so a silent client holds the loop for those seconds at most.
import Foundation
import Glibc

enum SocketServer {
    /// Answers connections on `listener` on the calling thread, forever.
    static func serve(_ listener: Int32, timeout: Double = 2, answer: (Int32) -> Void) -> Never {
        while true {
            guard let connection = Sockets.accept(listener, timeout: timeout) else { continue }
            answer(connection)
            close(connection)
        }
    }

    /// Answers connections on `listener` on a thread of its own named `name`.
    static func start(_ listener: Int32, name: String, answer: @escaping @Sendable (Int32) -> Void) {
        let thread = Thread { serve(listener, answer: answer) }
        thread.name = name
        thread.start()
    }
}
