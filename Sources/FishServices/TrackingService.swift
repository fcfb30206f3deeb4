import FishStore
public import Foundation

/// Experiment tracking as operators read it: runs, one run, and comparisons.
public struct TrackingService: Sendable {
    /// Runs side by side: only the parameters that differ, and best and last value per metric.
    public struct Comparison: Sendable, Codable {
        public struct MetricValues: Sendable, Codable, Equatable {
            public let best: Double
            public let last: Double
        }

        public let runs: [String]
        public let names: [String]
        /// Parameter → value per run (nil where a run lacks it); only parameters that differ.
        public let differingParams: [String: [String?]]
        /// Metric → values per run (nil where a run did not log it).
        public let metrics: [String: [MetricValues?]]
        public let directions: [String: MetricDirection]
    }

    private let context: ServiceContext

    public init(context: ServiceContext) {
        self.context = context
    }

    public func runs(experiment: String? = nil, limit: Int? = nil) throws(StoreError) -> [RunSummary] {
        try context.store.runs(experiment: experiment, limit: limit)
    }

    public func run(_ reference: String) throws(StoreError) -> RunDetail {
        try context.store.run(reference)
    }

    /// Every logged point of one metric of a run, by step.
    public func metricHistory(_ runId: String, key: String) throws(StoreError) -> [MetricPoint] {
        try context.store.metricHistory(runId, key: key)
    }

    /// The content of the artifact at `path` of a run, or nil when the run has none there.
    public func artifact(_ runId: String, path: String) throws(StoreError) -> Data? {
        guard let record = try context.store.run(runId).artifacts.first(where: { $0.path == path }) else { return nil }
        return try context.store.artifacts.get(record.sha256)
    }

    /// The test-split evaluation a training run recorded (`evaluation.json`), or nil when it has none.
    public func evaluation(_ runId: String) throws -> ClassificationMetrics? {
        guard let data = try artifact(runId, path: "evaluation.json") else { return nil }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(ClassificationMetrics.self, from: data)
    }

    public func compare(_ references: [String]) throws(StoreError) -> Comparison {
        guard references.count >= 2 else { throw .invalid("compare needs at least two runs") }
        let details = try references.map { reference throws(StoreError) in try context.store.run(reference) }
        let paramKeys = Set(details.flatMap(\.params.keys)).sorted()
        var differing: [String: [String?]] = [:]
        for key in paramKeys {
            let values = details.map { $0.params[key] }
            if Set(values.map { $0 ?? "\u{0}" }).count > 1 { differing[key] = values }
        }
        var metrics: [String: [Comparison.MetricValues?]] = [:]
        var directions: [String: MetricDirection] = [:]
        for key in Set(details.flatMap { $0.metrics.map(\.key) }).sorted() {
            metrics[key] = details.map { detail in
                detail.metrics.first { $0.key == key }.map { Comparison.MetricValues(best: $0.bestValue, last: $0.lastValue) }
            }
            directions[key] = details.lazy.compactMap { $0.metrics.first { $0.key == key }?.direction }.first
        }
        return Comparison(
            runs: details.map(\.run.id), names: details.map(\.run.name), differingParams: differing,
            metrics: metrics, directions: directions)
    }
}
