// MetricsServer: `GET /metrics` over HTTP/1.1 for --metrics-address, answered by a thread of its own (SocketServer),
// one connection at a time (a scraper asks every 15 s or so; nothing here is on the read path). Each scrape first
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
        SocketServer.start(listener, name: "s3m-metrics") { [self] connection in answer(connection) }
    }

    private func answer(_ connection: Int32) {
        guard let request = HTTPRequest.read(connection, limit: 8 << 10) else { return }
        let response: [UInt8]
        switch (request.method, request.path) {
        case ("GET", "/metrics"):
            gauges.refresh()
            response = HTTPRequest.response(status: "200 OK", type: "text/plain; version=0.0.4; charset=utf-8", body: registry.emitToBuffer())
        case ("GET", _):
            response = HTTPRequest.response(status: "404 Not Found", type: "text/plain", body: Array("try /metrics\n".utf8))
        default:
            response = HTTPRequest.response(status: "405 Method Not Allowed", type: "text/plain", body: [])
        }
        _ = Sockets.writeAll(connection, response)
    }
}
