import FishServices
import Hummingbird
import Metrics
import Prometheus

/// The server's metrics, in one Prometheus registry per process, each family with its HELP text
/// and names that `promtool check metrics` accepts.
final class ServerMetrics: Sendable {
    /// The registry `/metrics` prints.
    static let registry = PrometheusCollectorRegistry()

    /// Hummingbird's own request metrics (`hb_requests`, `hb_request_errors`,
    /// `http_server_request_duration`, `http_server_active_requests`), the names before
    /// `fishops_http_*`: recorded only with `--legacy-metric-names`, through swift-metrics
    /// bootstrapped to the same registry (once per process, when first asked).
    static let legacyFactory: Void = {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = durationBuckets
        MetricsSystem.bootstrap(factory)
    }()

    static let durationBuckets: [Duration] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000].map { .milliseconds($0) }

    let cacheHits = registry.makeCounter(
        descriptor: .fishops("cache_hits", unit: "total", help: "Cache lookups that found the answer."))
    let cacheMisses = registry.makeCounter(
        descriptor: .fishops("cache_misses", unit: "total", help: "Cache lookups that did not."))
    let cacheHitRatio = registry.makeGauge(
        descriptor: .fishops("cache_hit", unit: "ratio", help: "Cache hits over lookups since the server started."))
    let queueDepth = registry.makeGauge(
        descriptor: .fishops("queue", unit: "depth", help: "Images waiting for a forward pass."))
    let batchSize = registry.makeValueHistogram(
        descriptor: .fishops("batch", unit: "size", help: "Images per forward pass."),
        labels: [], buckets: [1, 2, 4, 8, 16, 32, 64])
    let forwardDuration = registry.makeDurationHistogram(
        descriptor: .fishops("forward_duration", unit: "seconds", help: "Time of each forward pass."),
        labels: [], buckets: durationBuckets)
    let modelVersion: Prometheus.Gauge
    /// The recent traffic `/v1/stats` summarises.
    let traffic = TrafficWindow()
    /// The served version's recent embeddings, checked for drift every `driftInterval`.
    let drift: DriftWindow

    init(
        model: String, alias: String, driftInterval: Duration,
        onDrift: @escaping @Sendable (_ version: Int, _ check: DriftCheck) -> Void = { _, _ in }
    ) {
        drift = DriftWindow(interval: driftInterval, registry: Self.registry, onDrift: onDrift)
        modelVersion = Self.registry.makeGauge(
            descriptor: .fishops("model", unit: "version", help: "The version served, by model and alias."),
            labels: [("model", model), ("alias", alias)])
    }

    /// The Prometheus text exposition of every metric.
    static func exposition() -> String { registry.emitToString() }
}

/// Counts every request by route, method and status, and times it until its body is written:
/// `fishops_http_requests_total`, `fishops_http_request_duration_seconds`,
/// `fishops_http_requests_in_flight`.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private static var registry: PrometheusCollectorRegistry { ServerMetrics.registry }
    private static var requests: MetricNameDescriptor {
        .fishops("requests", unit: "total", subsystem: "http", help: "HTTP requests answered, by route, method and status.")
    }
    private static var duration: MetricNameDescriptor {
        .fishops(
            "request_duration", unit: "seconds", subsystem: "http",
            help: "Time from a request's arrival until its answer is written, by route, method and status.")
    }

    let inFlight = ServerMetrics.registry.makeGauge(
        descriptor: .fishops("requests", unit: "in_flight", subsystem: "http", help: "HTTP requests being answered."))

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response
    {
        let start = ContinuousClock.now
        inFlight.increment()
        do {
            var response = try await next(request, context)
            let labels = Self.labels(context.endpointPath ?? "NotFound", request.method, response.status)
            let (body, inFlight) = (response.body, inFlight)
            response.body = ResponseBody(contentLength: body.contentLength) { writer in
                defer {
                    Self.record(labels, since: start)
                    inFlight.decrement()
                }
                try await body.write(writer)
            }
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            Self.record(Self.labels(context.endpointPath ?? "NotFound", request.method, status), since: start)
            inFlight.decrement()
            throw error
        }
    }

    private static func labels(_ route: String, _ method: HTTPRequest.Method, _ status: HTTPResponse.Status) -> [(String, String)]
    {
        [("http_route", route), ("http_request_method", method.rawValue), ("http_response_status_code", String(status.code))]
    }

    private static func record(_ labels: [(String, String)], since start: ContinuousClock.Instant) {
        registry.makeCounter(descriptor: requests, labels: labels).increment()
        registry.makeDurationHistogram(descriptor: duration, labels: labels, buckets: ServerMetrics.durationBuckets)
            .record(ContinuousClock.now - start)
    }
}

extension MetricNameDescriptor {
    /// A family named `fishops_[SUBSYSTEM_]NAME_UNIT` with its HELP text.
    static func fishops(_ name: String, unit: String, subsystem: String? = nil, help: String) -> MetricNameDescriptor {
        .init(namespace: "fishops", subsystem: subsystem, metricName: name, unitName: unit, helpText: help)
    }
}
