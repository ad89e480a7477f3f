import ArgumentParser

/// Where /metrics listens: `HOST:PORT`, `[IPV6]:PORT`, or a bare `PORT` (127.0.0.1). The operator names any
/// other host explicitly; nothing binds to all interfaces unless told `0.0.0.0:PORT`.
struct ListenAddress: ExpressibleByArgument, Sendable, Equatable, CustomStringConvertible {
    var host: String
    var port: UInt16

    init?(argument: String) {
        let hostPart: Substring
        let portPart: Substring
        if argument.hasPrefix("["), let close = argument.firstIndex(of: "]") {
            hostPart = argument[argument.index(after: argument.startIndex)..<close]
            let rest = argument[argument.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portPart = rest.dropFirst()
        } else if let colon = argument.lastIndex(of: ":") {
            hostPart = argument[..<colon]
            portPart = argument[argument.index(after: colon)...]
        } else {
            hostPart = "127.0.0.1"
            portPart = Substring(argument)
        }
        guard !hostPart.isEmpty, !hostPart.contains(":") || argument.hasPrefix("["), let port = UInt16(portPart), port > 0
        else { return nil }
        host = String(hostPart)
        self.port = port
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
