import Foundation
import GRDB

/// Whether smaller or larger values of a metric are better.
public enum MetricDirection: String, Codable, Sendable, DatabaseValueConvertible {
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
public enum RunStatus: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case running = "RUNNING", finished = "FINISHED", failed = "FAILED", killed = "KILLED"
}

public struct Experiment: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "experiments"
    public var id: Int64?
    public var name: String
    public var createdAt: Date
}

public struct Run: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "runs"
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
public struct MetricSummary: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "metric_summaries"
    public var runId: String
    public var key: String
    public var direction: MetricDirection
    public var bestValue: Double
    public var bestStep: Int
    public var lastValue: Double
    public var lastStep: Int
    public var count: Int
}

/// A file attached to a run, stored once by content.
public struct ArtifactRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "artifacts"
    public var runId: String
    public var path: String
    public var sha256: String
    public var size: Int64
}

public struct RegisteredModel: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "registered_models"
    public var name: String
    public var createdAt: Date
    public var createdBy: String
}

/// An immutable model version: a package, where it came from, and who made it.
public struct ModelVersion: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "model_versions"
    public var model: String
    public var version: Int
    public var packageSha256: String
    /// The package folder, relative to the FishOps home.
    public var packagePath: String
    public var sourceRunId: String?
    public var createdBy: String
    public var createdAt: Date
}

/// Metrics of a model version measured on one evaluation data set (identified by fingerprint).
public struct VersionEvaluation: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "version_evaluations"
    public var model: String
    public var version: Int
    public var evaluationData: String
    public var metrics: [String: Double]
    public var createdAt: Date
}

/// What an audit entry records.
public enum AuditAction: String, Codable, Sendable, DatabaseValueConvertible {
    case registerVersion = "register_version", promote, rollback
}

/// Whether the recorded attempt took effect.
public enum AuditOutcome: String, Codable, Sendable, DatabaseValueConvertible {
    case applied, refused, conflict
}

/// One line of the append-only audit log: who did what, when, from which version to which, and why.
public struct AuditEntry: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "audit_log"
    public var id: Int64?
    public var at: Date
    public var actor: String
    public var host: String
    public var model: String
    public var action: AuditAction
    public var alias: String?
    public var fromVersion: Int?
    public var toVersion: Int?
    public var outcome: AuditOutcome
    public var reason: String
    public var detail: String
}

// Column-by-column decoding: several times faster than Codable when listing thousands of runs.
// (In extensions, so that the memberwise initialisers stay.)
extension Run {
    public init(row: Row) throws {
        self.init(id: row["id"], experimentId: row["experimentId"], name: row["name"], status: row["status"],
                  startTime: row["startTime"], endTime: row["endTime"], user: row["user"], host: row["host"],
                  datasetFingerprint: row["datasetFingerprint"], parentRunId: row["parentRunId"])
    }
}

extension MetricSummary {
    public init(row: Row) throws {
        self.init(runId: row["runId"], key: row["key"], direction: row["direction"], bestValue: row["bestValue"],
                  bestStep: row["bestStep"], lastValue: row["lastValue"], lastStep: row["lastStep"], count: row["count"])
    }
}
