public import Foundation

// The scheduler's records as every layer speaks them.

/// A recurring command: `fishops ARGUMENTS...` whenever the cron expression comes due.
public struct ScheduleRecord: Codable, Sendable, Equatable {
    public var name: String
    public var cron: String
    /// The fishops arguments, e.g. `["train", "--data", "/data/fish"]`.
    public var arguments: [String]
    public var createdAt: Date
    public var createdBy: String

    public init(name: String, cron: String, arguments: [String], createdAt: Date, createdBy: String) {
        self.name = name
        self.cron = cron
        self.arguments = arguments
        self.createdAt = createdAt
        self.createdBy = createdBy
    }
}

/// What happened at one due time of a schedule.
public enum ScheduleOutcome: String, Codable, Sendable {
    /// An agent started the command.
    case started
    /// No agent was running at the time; reported, not run.
    case missed
    /// The command could not be started.
    case failed
}

public struct ScheduleRun: Codable, Sendable, Equatable {
    public var schedule: String
    public var dueAt: Date
    public var outcome: ScheduleOutcome
    /// The agent (host and pid) that recorded it.
    public var agent: String
    public var recordedAt: Date
    public var detail: String

    public init(schedule: String, dueAt: Date, outcome: ScheduleOutcome, agent: String, detail: String = "") {
        self.schedule = schedule
        self.dueAt = dueAt
        self.outcome = outcome
        self.agent = agent
        recordedAt = Date()
        self.detail = detail
    }
}
