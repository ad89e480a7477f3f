// MetricsServer: `GET /metrics` over HTTP/1.1 for --metrics-address, answered by a thread of its own, one
// connection at a time (a scraper asks every 15 s or so; nothing here is on the read path). Each scrape first
// refreshes the state gauges, then writes the registry in the Prometheus text format (swift-prometheus renders
// it) and closes the connection. Anything else gets 404 (405 for other methods). Requests are read for at most
// 2 s and 8 KiB, so a stuck client cannot hold the thread.
import Foundation
import Glibc
import Prometheus

final class MetricsServer: Sendable {
    private let listener: Int32
    private let registry: PrometheusCollectorRegistry
    private let gauges: ScrapeGauges

    /// Binds at once, so that a bad or busy address fails the mount before it goes live.
    init(address: ListenAddress, registry: PrometheusCollectorRegistry, gauges: ScrapeGauges) throws(SocketError) {
        listener = try Sockets.listenTCP(host: address.host, port: address.port)
        self.registry = registry
        self.gauges = gauges
    }

    func start() {
        let thread = Thread { [self] in
            while true {
                guard let connection = Sockets.accept(listener, timeout: 2) else { continue }
                answer(connection)
                close(connection)
            }
        }
        thread.name = "s3m-metrics"
        thread.start()
    }

    private func answer(_ connection: Int32) {
        let request = Sockets.read(connection, limit: 8 << 10) { $0.count >= 4 && Self.endsHeader($0) }
        let line = String(decoding: request.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        let parts = line.split(separator: " ")
        guard parts.count >= 2 else { return }
        let path = parts[1].split(separator: "?").first.map(String.init) ?? ""
        let response: [UInt8]
        switch (parts[0], path) {
        case ("GET", "/metrics"):
            gauges.refresh()
            response = Self.response(status: "200 OK", type: "text/plain; version=0.0.4; charset=utf-8", body: registry.emitToBuffer())
        case ("GET", _):
            response = Self.response(status: "404 Not Found", type: "text/plain", body: Array("try /metrics\n".utf8))
        default:
            response = Self.response(status: "405 Method Not Allowed", type: "text/plain", body: [])
        }
        _ = Sockets.writeAll(connection, response)
    }

    private static func endsHeader(_ bytes: [UInt8]) -> Bool {
        bytes.suffix(4) == [13, 10, 13, 10] || bytes.suffix(2) == [10, 10]
    }

    private static func response(status: String, type: String, body: [UInt8]) -> [UInt8] {
        let head = "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + body
    }
}
