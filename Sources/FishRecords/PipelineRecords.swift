public import Foundation

// The pipeline coordinator's records as every layer speaks them.

/// A pipeline's durable state: the spec it runs, its stages and its worker tasks. It lives
/// beside the run it belongs to, so a new coordinator can pick the run up where the last stopped.
public struct PipelineRecord: Codable, Sendable, Equatable {
    public var runId: String
    /// What the pipeline does (`train`).
    public var kind: String
    /// The spec as JSON.
    public var spec: String
    public var backend: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(runId: String, kind: String, spec: String, backend: String, createdAt: Date, updatedAt: Date) {
        self.runId = runId
        self.kind = kind
        self.spec = spec
        self.backend = backend
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Where a stage of a pipeline stands.
public enum StageState: String, Codable, Sendable {
    case pending, running, done, skipped, failed
}

public struct PipelineStage: Codable, Sendable, Equatable {
    public var runId: String
    public var stage: String
    public var position: Int
    public var state: StageState
    public var startedAt: Date?
    public var endedAt: Date?
    /// What the stage produced or why it failed, in a sentence.
    public var detail: String

    public init(
        runId: String, stage: String, position: Int, state: StageState, startedAt: Date? = nil, endedAt: Date? = nil,
        detail: String
    ) {
        self.runId = runId
        self.stage = stage
        self.position = position
        self.state = state
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.detail = detail
    }
}

/// One worker task of a pipeline and the latest news of it.
public struct PipelineTask: Codable, Sendable, Equatable {
    public var runId: String
    public var taskId: String
    public var stage: String
    /// A cluster task state: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT.
    public var state: String
    /// Submissions so far (1 + retries).
    public var attempts: Int
    public var worker: String?
    public var reason: String?
    public var done: Int?
    public var total: Int?
    public var cpuPercent: Double?
    public var rssBytes: Int?
    public var heartbeatAt: Date?
    public var updatedAt: Date

    public init(runId: String, taskId: String, stage: String, state: String, attempts: Int) {
        self.runId = runId
        self.taskId = taskId
        self.stage = stage
        self.state = state
        self.attempts = attempts
        updatedAt = Date()
    }
}
