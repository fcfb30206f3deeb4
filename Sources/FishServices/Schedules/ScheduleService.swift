import FishStore
public import Foundation

/// Recurring commands and the agent's tick: `fishops schedule add|list|remove` and `fishops agent`.
/// A due time is recorded in the store before its command starts, under a key only one agent can
/// insert, so a run never starts twice; due times that passed while no agent ran are recorded as
/// missed and reported, not run late.
public struct ScheduleService: Sendable {
    /// A schedule with what happened last and what comes next.
    public struct Summary: Sendable, Codable {
        public let schedule: ScheduleRecord
        public let nextDue: Date?
        public let last: ScheduleRun?
        /// Recorded missed due times (newest 50 looked at).
        public let missed: Int
    }

    /// How late a due time may be picked up and still run (the agent wakes at least this often).
    public static let grace: TimeInterval = 90

    private let context: ServiceContext
    private var store: Store { context.store }

    public init(context: ServiceContext) {
        self.context = context
    }

    /// Adds schedule `name` running `fishops arguments...` whenever `cron` is due.
    public func add(name: String, cron: String, arguments: [String], now: Date = Date()) throws -> Summary {
        let expression = try CronExpression(cron)
        guard !arguments.isEmpty else {
            throw ServiceError.invalidArgument("a schedule needs a command after --, e.g. -- train --data DIR")
        }
        let record = ScheduleRecord(
            name: name, cron: expression.description, arguments: arguments, createdAt: now,
            createdBy: context.actor.user)
        try store.addSchedule(record)
        return Summary(schedule: record, nextDue: expression.next(after: now), last: nil, missed: 0)
    }

    public func list(now: Date = Date()) throws -> [Summary] {
        try store.schedules().map { record in
            let runs = try store.scheduleRuns(record.name)
            return Summary(
                schedule: record, nextDue: (try? CronExpression(record.cron))?.next(after: now), last: runs.first,
                missed: runs.filter { $0.outcome == .missed }.count)
        }
    }

    public func remove(name: String) throws {
        try store.removeSchedule(name)
    }

    public func history(name: String) throws -> [ScheduleRun] {
        guard try store.schedules().contains(where: { $0.name == name }) else {
            throw ServiceError.invalidArgument("schedule \(name) not found; see `fishops schedule list`")
        }
        return try store.scheduleRuns(name)
    }

    /// One agent pass at `now`: every due time since a schedule's last recorded one (or its
    /// creation) is claimed; those older than `grace` as missed, the latest recent one as
    /// started, through `launch` (which returns a detail such as the pid and log). Returns what
    /// this agent recorded.
    public func tick(now: Date = Date(), agent: String, launch: (ScheduleRecord) throws -> String) throws -> [ScheduleRun] {
        var recorded: [ScheduleRun] = []
        for record in try store.schedules() {
            guard let expression = try? CronExpression(record.cron) else { continue }
            let since = try store.scheduleRuns(record.name, limit: 1).first?.dueAt ?? record.createdAt
            for due in expression.dueTimes(after: since, through: now) {
                let late = now.timeIntervalSince(due) > Self.grace
                let detail = late ? "no agent was running at \(due)" : ""
                let claim = ScheduleRun(
                    schedule: record.name, dueAt: due, outcome: late ? .missed : .started, agent: agent, detail: detail)
                guard try store.claim(claim) else { continue }  // another agent recorded it
                var outcome = claim
                if !late {
                    do {
                        outcome.detail = try launch(record)
                    } catch {
                        outcome.outcome = .failed
                        outcome.detail = "\(error)"
                    }
                    try store.updateScheduleRun(
                        schedule: record.name, dueAt: due, outcome: outcome.outcome, detail: outcome.detail)
                }
                recorded.append(outcome)
            }
        }
        return recorded
    }

    /// The next moment any schedule is due after `now`.
    public func nextDue(after now: Date = Date()) throws -> Date? {
        try store.schedules().compactMap { try? CronExpression($0.cron).next(after: now) }.min()
    }
}
