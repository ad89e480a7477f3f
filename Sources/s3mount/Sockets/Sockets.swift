// Sockets: the socket calls /metrics, the control socket, `s3mount status` and the Docker volume plugin need,
// through CSystem's socket_shim.c, with -errno turned into SocketError. Blocking calls only: every server here
// runs on a thread of its own (the plugin on its main thread), never on the cooperative pool, and every connection
// gets receive/send timeouts so a silent peer cannot hold it.
import CSystem
import Glibc

struct SocketError: Error, CustomStringConvertible {
    let operation: String
    let code: Int32

    var description: String { "\(operation): \(MountpointCheck.describe(code))" }
}

enum Sockets {
    // SAFETY (the calls below): Swift passes each String as a NUL-terminated C string valid for the call.
    static func listenTCP(host: String, port: UInt16) throws(SocketError) -> Int32 {
        try check(unsafe s3m_listen_tcp(host, port), "listen on \(host):\(port)")
    }

    static func listenUnix(path: String) throws(SocketError) -> Int32 {
        try check(unsafe s3m_listen_unix(path), "listen on \(path)")
    }

    static func connectUnix(path: String, timeout: Double) throws(SocketError) -> Int32 {
        try check(unsafe s3m_connect_unix(path, Int32(timeout * 1000)), "connect to \(path)")
    }

    /// The next connection; nil when accept failed (callers just accept again).
    static func accept(_ listener: Int32, timeout: Double) -> Int32? {
        let fd = s3m_accept(listener, Int32(timeout * 1000))
        return fd >= 0 ? fd : nil
    }

    /// The user id of the process at the other end of a unix socket.
    static func peerUID(_ fd: Int32) -> uid_t? {
        var uid: UInt32 = 0
        return unsafe s3m_peer_uid(fd, &uid) == 0 ? uid : nil
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        // SAFETY: the buffer is valid for the call, which only reads `count` bytes of it.
        unsafe bytes.withUnsafeBytes { unsafe s3m_send_all(fd, $0.baseAddress, $0.count) } == 0
    }

    /// Reads until `isComplete` says so, the peer closes, `limit` bytes, or the timeout.
    static func read(_ fd: Int32, limit: Int, until isComplete: ([UInt8]) -> Bool = { _ in false }) -> [UInt8] {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while received.count < limit, !isComplete(received) {
            // SAFETY: recv writes at most `count` bytes into the buffer, valid for the call.
            let count = unsafe chunk.withUnsafeMutableBytes { unsafe recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            received += chunk[..<count]
        }
        return received
    }

    private static func check(_ result: Int32, _ operation: String) throws(SocketError) -> Int32 {
        guard result >= 0 else { throw SocketError(operation: operation, code: -result) }
        return result
    }
}
