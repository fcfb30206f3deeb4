public import Foundation

// The experiment tracker's records as every layer speaks them: the store fills them, the
// services return them, the interfaces show them (the store adds its database conformances).

/// Whether smaller or larger values of a metric are better.
public enum MetricDirection: String, Codable, Sendable {
    case min, max

    /// The direction assumed for a metric that was never declared: losses, errors and times
    /// are minimised, everything else (accuracy, F1, ...) maximised.
    public static func inferred(for key: String) -> MetricDirection {
        let lowered = key.lowercased()
        let minimised = ["loss", "error", "ece", "mse", "mae", "rmse", "time", "latency", "seconds", "_ms"]
        return minimised.contains { lowered.contains($0) } ? .min : .max
    }

    /// True when `candidate` is better than `incumbent`.
    public func prefers(_ candidate: Double, over incumbent: Double) -> Bool {
        self == .max ? candidate > incumbent : candidate < incumbent
    }
}

/// The lifecycle state of a run (MLflow's names).
public enum RunStatus: String, Codable, Sendable, CaseIterable {
    case running = "RUNNING"
    case finished = "FINISHED"
    case failed = "FAILED"
    case killed = "KILLED"
}

public struct Experiment: Codable, Sendable, Equatable {
    public var id: Int64?
    public var name: String
    public var createdAt: Date

    public init(id: Int64?, name: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }
}

public struct Run: Codable, Sendable, Equatable {
    public var id: String
    public var experimentId: Int64
    public var name: String
    public var status: RunStatus
    public var startTime: Date
    public var endTime: Date?
    public var user: String
    public var host: String
    public var datasetFingerprint: String?
    public var parentRunId: String?

    public init(
        id: String, experimentId: Int64, name: String, status: RunStatus, startTime: Date, endTime: Date?,
        user: String, host: String, datasetFingerprint: String?, parentRunId: String?
    ) {
        self.id = id
        self.experimentId = experimentId
        self.name = name
        self.status = status
        self.startTime = startTime
        self.endTime = endTime
        self.user = user
        self.host = host
        self.datasetFingerprint = datasetFingerprint
        self.parentRunId = parentRunId
    }
}

/// One point of a metric series.
public struct MetricPoint: Codable, Sendable, Equatable {
    public var key: String
    public var value: Double
    public var step: Int
    public var timestamp: Date

    public init(key: String, value: Double, step: Int, timestamp: Date = Date()) {
        self.key = key
        self.value = value
        self.step = step
        self.timestamp = timestamp
    }
}

/// Best and last value of one metric of one run, kept up to date as points are logged.
public struct MetricSummary: Codable, Sendable, Equatable {
    public var runId: String
    public var key: String
    public var direction: MetricDirection
    public var bestValue: Double
    public var bestStep: Int
    public var lastValue: Double
    public var lastStep: Int
    public var count: Int

    public init(
        runId: String, key: String, direction: MetricDirection, bestValue: Double, bestStep: Int,
        lastValue: Double, lastStep: Int, count: Int
    ) {
        self.runId = runId
        self.key = key
        self.direction = direction
        self.bestValue = bestValue
        self.bestStep = bestStep
        self.lastValue = lastValue
        self.lastStep = lastStep
        self.count = count
    }
}

/// A file attached to a run, stored once by content.
public struct ArtifactRecord: Codable, Sendable, Equatable {
    public var runId: String
    public var path: String
    public var sha256: String
    public var size: Int64

    public init(runId: String, path: String, sha256: String, size: Int64) {
        self.runId = runId
        self.path = path
        self.sha256 = sha256
        self.size = size
    }
}

/// A run with its metric summaries, as listed.
public struct RunSummary: Sendable, Codable, Equatable {
    public let run: Run
    public let experiment: String
    public let metrics: [MetricSummary]

    public init(run: Run, experiment: String, metrics: [MetricSummary]) {
        self.run = run
        self.experiment = experiment
        self.metrics = metrics
    }
}

/// Everything recorded about one run.
public struct RunDetail: Sendable, Codable, Equatable {
    public let run: Run
    public let experiment: String
    public let params: [String: String]
    public let tags: [String: String]
    public let metrics: [MetricSummary]
    public let artifacts: [ArtifactRecord]

    public init(
        run: Run, experiment: String, params: [String: String], tags: [String: String], metrics: [MetricSummary],
        artifacts: [ArtifactRecord]
    ) {
        self.run = run
        self.experiment = experiment
        self.params = params
        self.tags = tags
        self.metrics = metrics
        self.artifacts = artifacts
    }
}
