// PoolMetrics: what the endpoint pool exports through swift-metrics, one handle per series made once at start
// (nothing is looked up or allocated per request):
//   s3mount_s3_requests_total{endpoint, operation, status}   status: 2xx, 4xx, 5xx, network, cancelled
//   s3mount_s3_request_duration_seconds{endpoint, operation}  each attempt, from its start to its outcome
//   s3mount_s3_throttled_total{endpoint}                     503 SlowDown / 429 answers
//   s3mount_s3_received_bytes_total{endpoint}                GET body bytes handed to the caller
//   s3mount_s3_retries_total{operation}, s3mount_s3_hedges_total, s3mount_s3_hedge_wins_total
// Breaker state, requests in flight and the concurrency limit are gauges read from `snapshot` at scrape time.
import CoreMetrics
import ObjectStore
import Observability

final class PoolMetrics: Sendable {
    /// Where an attempt ended, as a status class.
    enum Outcome: Int, CaseIterable {
        case success, clientError, serverError, network, cancelled

        var label: String { ["2xx", "4xx", "5xx", "network", "cancelled"][rawValue] }

        init(_ error: ObjectStoreError) {
            switch error {
            case .service(let service): self = service.status >= 500 || service.kind == .throttled ? .serverError : .clientError
            case .client: self = .network
            }
        }
    }

    private struct Endpoint: Sendable {
        let requests: [[Counter]]
        let durations: [Timer]
        let throttled: Counter
        let received: ObservedCounter
    }

    private let endpoints: [Endpoint]
    private let retries: [Counter]
    let hedges = Counter(label: "s3mount_s3_hedges_total")
    let hedgeWins = Counter(label: "s3mount_s3_hedge_wins_total")

    init(endpointNames: [String]) {
        endpoints = endpointNames.map { name in
            Endpoint(
                requests: OperationKind.allCases.map { kind in
                    Outcome.allCases.map { outcome in
                        Counter(
                            label: "s3mount_s3_requests_total",
                            dimensions: [("endpoint", name), ("operation", "\(kind)"), ("status", outcome.label)])
                    }
                },
                durations: OperationKind.allCases.map { kind in
                    Timer(label: "s3mount_s3_request_duration_seconds", dimensions: [("endpoint", name), ("operation", "\(kind)")])
                },
                throttled: Counter(label: "s3mount_s3_throttled_total", dimensions: [("endpoint", name)]),
                received: ObservedCounter(label: "s3mount_s3_received_bytes_total", dimensions: [("endpoint", name)]))
        }
        retries = OperationKind.allCases.map { Counter(label: "s3mount_s3_retries_total", dimensions: [("operation", "\($0)")]) }
    }

    func attempt(on endpoint: Int, _ kind: OperationKind, ended outcome: Outcome, after seconds: Double) {
        let handles = endpoints[endpoint]
        handles.requests[kind.rawValue][outcome.rawValue].increment()
        handles.durations[kind.rawValue].recordNanoseconds(Int64(max(0, seconds) * 1e9))
    }

    func throttled(on endpoint: Int) { endpoints[endpoint].throttled.increment() }

    func received(_ bytes: Int, on endpoint: Int) { endpoints[endpoint].received.add(UInt64(bytes)) }

    func retry(_ kind: OperationKind) { retries[kind.rawValue].increment() }

    /// GET body bytes received from each endpoint so far, in the pool's order.
    var receivedBytes: [UInt64] { endpoints.map(\.received.value) }
}
