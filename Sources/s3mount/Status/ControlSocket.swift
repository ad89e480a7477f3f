// ControlSocket: the daemon's unix socket for `s3mount status`. It lives in ControlPaths' directory (0700) and is
// itself 0600; a connecting process is also checked by its credentials (SO_PEERCRED): the user who runs the daemon
// and root get the MountStatus document as one JSON line, anyone else one line {"error": "permission denied"}.
// Nothing is read from the client. One thread, one connection at a time, 2 s timeouts.
import Foundation
import Glibc
import Logging

final class ControlSocket: Sendable {
    let path: String
    private let listener: Int32
    private let report: @Sendable () -> MountStatus

    init(mountpoint: String, report: @escaping @Sendable () -> MountStatus) throws(SocketError) {
        let directory = ControlPaths.directory()
        try ControlPaths.prepare(directory)
        path = ControlPaths.socket(for: mountpoint, in: directory)
        listener = try Sockets.listenUnix(path: path)
        unsafe chmod(path, 0o600)
        self.report = report
    }

    func start(logger: Logger) {
        SocketServer.start(listener, name: "s3m-control") { [self] connection in answer(connection, logger: logger) }
    }

    /// Removes the socket file (at unmount).
    func remove() { unsafe unlink(path) }

    private func answer(_ connection: Int32, logger: Logger) {
        let peer = Sockets.peerUID(connection)
        guard let peer, peer == 0 || peer == getuid() else {
            logger.notice("control socket: refused a connection", metadata: ["peer.uid": "\(peer.map(String.init) ?? "unknown")"])
            _ = Sockets.writeAll(connection, Array(#"{"error":"permission denied"}"#.utf8) + [10])
            return
        }
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let body = try? encoder.encode(report()) else { return }
        _ = Sockets.writeAll(connection, Array(body) + [10])
    }
}
