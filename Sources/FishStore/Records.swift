public import FishRecords
public import GRDB

// How the tracking and registry records map onto the store's tables.

extension MetricDirection: DatabaseValueConvertible {}
extension RunStatus: DatabaseValueConvertible {}
extension AuditAction: DatabaseValueConvertible {}
extension AuditOutcome: DatabaseValueConvertible {}

extension Experiment: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "experiments"
}

extension Run: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "runs"

    /// Column-by-column decoding: several times faster than Codable when listing thousands of runs.
    public init(row: Row) throws {
        self.init(
            id: row["id"], experimentId: row["experimentId"], name: row["name"], status: row["status"],
            startTime: row["startTime"], endTime: row["endTime"], user: row["user"], host: row["host"],
            datasetFingerprint: row["datasetFingerprint"], parentRunId: row["parentRunId"])
    }
}

extension MetricSummary: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "metric_summaries"

    public init(row: Row) throws {
        self.init(
            runId: row["runId"], key: row["key"], direction: row["direction"], bestValue: row["bestValue"],
            bestStep: row["bestStep"], lastValue: row["lastValue"], lastStep: row["lastStep"], count: row["count"])
    }
}

extension ArtifactRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "artifacts"
}

extension RegisteredModel: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "registered_models"
}

extension ModelVersion: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "model_versions"
}

extension VersionEvaluation: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "version_evaluations"
}

extension AuditEntry: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "audit_log"
}
