public import FishRecords
public import Foundation
public import GRDB

extension ScheduleRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "schedules"
}

extension ScheduleOutcome: DatabaseValueConvertible {}

extension ScheduleRun: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "schedule_runs"
}

extension Store {
    /// Adds a schedule; its name must be new.
    public func addSchedule(_ schedule: ScheduleRecord) throws(StoreError) {
        guard Self.isValidName(schedule.name) else {
            throw .invalid("schedule name \(schedule.name.debugDescription): use letters, digits, '-', '_' and '.'")
        }
        try write { db in
            if try ScheduleRecord.exists(db, key: schedule.name) {
                throw StoreError.conflict("schedule \(schedule.name) exists; remove it first")
            }
            try schedule.insert(db)
        }
    }

    public func schedules() throws(StoreError) -> [ScheduleRecord] {
        try read { db in try ScheduleRecord.order(Column("name")).fetchAll(db) }
    }

    /// Removes a schedule and its history.
    public func removeSchedule(_ name: String) throws(StoreError) {
        try write { db in
            try db.execute(sql: "DELETE FROM schedule_runs WHERE schedule = ?", arguments: [name])
            guard try ScheduleRecord.deleteOne(db, key: name) else { throw StoreError.notFound("schedule \(name) not found") }
        }
    }

    /// Records `run` unless its due time is already recorded; true when this call recorded it.
    /// Two agents racing for the same due time: exactly one gets true.
    public func claim(_ run: ScheduleRun) throws(StoreError) -> Bool {
        try write { db in
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO schedule_runs (schedule, dueAt, outcome, agent, recordedAt, detail)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [run.schedule, run.dueAt, run.outcome, run.agent, run.recordedAt, run.detail])
            return db.changesCount == 1
        }
    }

    /// Updates the detail of a recorded due time (the run id or the error once known).
    public func updateScheduleRun(schedule: String, dueAt: Date, outcome: ScheduleOutcome, detail: String) throws(StoreError) {
        try write { db in
            try db.execute(
                sql: "UPDATE schedule_runs SET outcome = ?, detail = ? WHERE schedule = ? AND dueAt = ?",
                arguments: [outcome, detail, schedule, dueAt])
        }
    }

    /// The recorded due times of a schedule, newest first.
    public func scheduleRuns(_ schedule: String, limit: Int = 50) throws(StoreError) -> [ScheduleRun] {
        try read { db in
            try ScheduleRun.filter(Column("schedule") == schedule).order(Column("dueAt").desc).limit(limit).fetchAll(db)
        }
    }
}
