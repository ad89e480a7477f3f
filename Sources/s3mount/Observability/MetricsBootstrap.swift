// MetricsBootstrap: with --metrics-address, swift-metrics is bootstrapped with swift-prometheus before anything
// creates a handle, so every Counter/Timer/Gauge made by the pool, the core and the bridge lands in one
// PrometheusCollectorRegistry. Every series gets the label mount="<mountpoint>" (several daemons on one node are
// told apart), and every duration histogram uses LatencyBuckets. Without the option nothing is bootstrapped and
// the handles are swift-metrics' no-ops.
import CoreMetrics
import Observability
import Prometheus

enum MetricsBootstrap {
    static func bootstrap(mountpoint: String) -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(factory(registry: registry, mountpoint: mountpoint))
        return registry
    }

    static func factory(registry: PrometheusCollectorRegistry, mountpoint: String) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = LatencyBuckets.upperBounds.map { .nanoseconds(Int64($0 * 1e9)) }
        factory.nameAndLabelSanitizer = { name, labels in (name, [("mount", mountpoint)] + labels) }
        return factory
    }
}
