public import FishRecords
import Foundation
public import GRDB

extension PipelineRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "pipelines"
}

extension StageState: DatabaseValueConvertible {}

extension PipelineStage: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "pipeline_stages"
}

extension PipelineTask: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "pipeline_tasks"
}

extension Store {
    /// Records a new pipeline for `runId` with its stages, all pending.
    public func createPipeline(runId: String, kind: String, spec: String, backend: String, stages: [String]) throws(StoreError) {
        let now = Date()
        try write { db in
            try PipelineRecord(runId: runId, kind: kind, spec: spec, backend: backend, createdAt: now, updatedAt: now).insert(db)
            for (position, stage) in stages.enumerated() {
                try PipelineStage(runId: runId, stage: stage, position: position, state: .pending, detail: "").insert(db)
            }
        }
    }

    /// The pipeline of `runId`, or nil when the run has none.
    public func pipeline(runId: String) throws(StoreError) -> PipelineRecord? {
        try read { db in try PipelineRecord.fetchOne(db, key: runId) }
    }

    /// Pipelines whose run is still RUNNING (newest first).
    public func activePipelines() throws(StoreError) -> [PipelineRecord] {
        try read { db in
            try PipelineRecord.fetchAll(
                db,
                sql: """
                    SELECT pipelines.* FROM pipelines JOIN runs ON runs.id = pipelines.runId
                    WHERE runs.status = 'RUNNING' ORDER BY pipelines.createdAt DESC
                    """)
        }
    }

    /// Switches the backend a resumed pipeline uses.
    public func setPipelineBackend(runId: String, backend: String) throws(StoreError) {
        try write { db in
            try db.execute(
                sql: "UPDATE pipelines SET backend = ?, updatedAt = ? WHERE runId = ?", arguments: [backend, Date(), runId])
        }
    }

    public func stages(runId: String) throws(StoreError) -> [PipelineStage] {
        try read { db in
            try PipelineStage.filter(Column("runId") == runId).order(Column("position")).fetchAll(db)
        }
    }

    /// Moves a stage to `state` (start and end times follow).
    public func setStage(runId: String, stage: String, state: StageState, detail: String = "") throws(StoreError) {
        try write { db in
            let now = Date()
            let started: Date? = state == .running ? now : nil
            let ended: Date? = state == .running || state == .pending ? nil : now
            try db.execute(
                sql: """
                    UPDATE pipeline_stages SET state = ?, detail = ?, startedAt = COALESCE(?, startedAt), endedAt = ?
                    WHERE runId = ? AND stage = ?
                    """, arguments: [state, detail, started, ended, runId, stage])
            if db.changesCount == 0 { throw StoreError.notFound("pipeline \(runId) has no stage \(stage)") }
            try db.execute(sql: "UPDATE pipelines SET updatedAt = ? WHERE runId = ?", arguments: [now, runId])
        }
    }

    public func pipelineTasks(runId: String, stage: String? = nil) throws(StoreError) -> [PipelineTask] {
        try read { db in
            var request = PipelineTask.filter(Column("runId") == runId)
            if let stage { request = request.filter(Column("stage") == stage) }
            return try request.order(Column("taskId")).fetchAll(db)
        }
    }

    /// Inserts or replaces task rows, in one transaction.
    public func saveTasks(_ tasks: [PipelineTask]) throws(StoreError) {
        guard !tasks.isEmpty else { return }
        try write { db in
            for task in tasks { try task.save(db) }
        }
    }

    /// Lets a run that stopped (killed coordinator, Ctrl-C, failure) run again.
    public func reopenRun(_ id: String) throws(StoreError) {
        try write { db in
            try db.execute(sql: "UPDATE runs SET status = 'RUNNING', endTime = NULL WHERE id = ?", arguments: [id])
            if db.changesCount == 0 { throw StoreError.notFound("run \(id) not found") }
        }
    }
}
