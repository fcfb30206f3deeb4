import Metrics
import class Prometheus.PrometheusCollectorRegistry
import struct Prometheus.PrometheusMetricsFactory

/// The server's metrics, recorded through swift-metrics into one Prometheus registry per process.
/// Hummingbird's `MetricsMiddleware` adds requests by route and status and their latency histograms
/// to the same registry.
final class ServerMetrics: Sendable {
    /// The registry `/metrics` prints; swift-metrics is bootstrapped to it once per process.
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000].map { .milliseconds($0) }
        factory.valueHistogramBuckets["fishops_batch_size"] = [1, 2, 4, 8, 16, 32, 64]
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    let cacheHits: Counter
    let cacheMisses: Counter
    let cacheHitRatio: Gauge
    let queueDepth: Gauge
    let batchSize: Recorder
    let forwardDuration: Timer
    let modelVersion: Gauge
    /// The recent traffic `/v1/stats` summarises.
    let traffic = TrafficWindow()

    init(model: String, alias: String) {
        _ = Self.registry
        cacheHits = Counter(label: "fishops_cache_hits_total")
        cacheMisses = Counter(label: "fishops_cache_misses_total")
        cacheHitRatio = Gauge(label: "fishops_cache_hit_ratio")
        queueDepth = Gauge(label: "fishops_queue_depth")
        batchSize = Recorder(label: "fishops_batch_size", aggregate: true)
        forwardDuration = Timer(label: "fishops_forward_duration_seconds")
        modelVersion = Gauge(label: "fishops_model_version", dimensions: [("model", model), ("alias", alias)])
    }

    /// The Prometheus text exposition of every metric.
    static func exposition() -> String { registry.emitToString() }
}
