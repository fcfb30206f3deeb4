public import FishRecords
public import Foundation
import GRDB
import Synchronization

extension Store {
    /// Attempts kept in the delivery log; older ones are deleted as new ones arrive.
    public static let hookDeliveryLogLimit = 10_000

    /// Adds `hook`; a hook of that name is an error.
    public func addHook(_ hook: Hook) throws(StoreError) {
        guard Self.isValidName(hook.name) else {
            throw .invalid("hook name \(hook.name) must be 1-64 letters, digits, '.', '_' or '-'")
        }
        try write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM hooks WHERE name = ?", arguments: [hook.name]) != nil {
                throw StoreError.invalid("hook \(hook.name) exists; remove it first (`fishops hooks remove \(hook.name)`)")
            }
            try db.execute(
                sql: "INSERT INTO hooks (name, definition) VALUES (?, ?)",
                arguments: [hook.name, String(decoding: try JSONEncoder().encode(hook), as: UTF8.self)])
        }
    }

    /// Removes hook `name` and the events waiting for it.
    public func removeHook(_ name: String) throws(StoreError) {
        try write { db in
            try db.execute(sql: "DELETE FROM hooks WHERE name = ?", arguments: [name])
            if db.changesCount == 0 { throw StoreError.notFound("hook \(name) not found; see `fishops hooks list`") }
        }
    }

    /// Every hook, by name.
    public func hooks() throws(StoreError) -> [Hook] {
        try read { db in try Self.hooks(db) }
    }

    /// Queues `event` with body `payload` for every hook that subscribes to it, inside the
    /// caller's transaction (what raised it and its deliveries commit together).
    func raise(_ db: Database, _ event: HookEventName, payload: [String: any Sendable]) throws {
        let subscribers = try Self.hooks(db).filter { $0.events.contains(event) }
        guard !subscribers.isEmpty else { return }
        let now = Date()
        for hook in subscribers {
            try db.execute(
                sql:
                    "INSERT INTO hook_queue (hook, event, payload, raisedAt, attempts, nextAttemptAt) VALUES (?, ?, '', ?, 0, ?)",
                arguments: [hook.name, event.rawValue, now, now])
            // The body names its delivery (the same on every attempt), so a receiver can drop repeats.
            let id = db.lastInsertedRowID
            var body: [String: Any] = payload
            body["event"] = event.rawValue
            body["delivery_id"] = id
            body["raised_at"] = ISO8601DateFormatter().string(from: now)
            let json = String(decoding: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]), as: UTF8.self)
            try db.execute(sql: "UPDATE hook_queue SET payload = ? WHERE id = ?", arguments: [json, id])
            written.add(1, ordering: .relaxed)
        }
    }

    /// Raises `event` in a transaction of its own (for what the store does not record itself).
    public func raiseEvent(_ event: HookEventName, payload: [String: any Sendable]) throws(StoreError) {
        try write { db in try raise(db, event, payload: payload) }
    }

    /// Queued events due by `now` (all of them with `ignoringBackoff`), oldest first.
    public func dueHookEvents(now: Date = Date(), ignoringBackoff: Bool = false, limit: Int = 100) throws(StoreError)
        -> [QueuedHookEvent]
    {
        try read { db in
            let hooks = Dictionary(uniqueKeysWithValues: try Self.hooks(db).map { ($0.name, $0) })
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT * FROM hook_queue \(ignoringBackoff ? "" : "WHERE nextAttemptAt <= ?") ORDER BY id LIMIT ?",
                arguments: ignoringBackoff ? [limit] : [now, limit])
            return rows.compactMap { row in
                guard let hook = hooks[row["hook"]], let event = HookEventName(rawValue: row["event"]) else { return nil }
                return QueuedHookEvent(
                    id: row["id"], hook: hook, event: event, payload: row["payload"], raisedAt: row["raisedAt"],
                    attempts: row["attempts"])
            }
        }
    }

    /// How many events wait for a hook.
    public func queuedHookEvents() throws(StoreError) -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM hook_queue") ?? 0 }
    }

    /// Records an attempt at `event`: delivered or given up, it leaves the queue; failed, it is
    /// tried again at `retryAt`. The log keeps the newest `hookDeliveryLogLimit` attempts.
    public func recordHookAttempt(_ event: QueuedHookEvent, outcome: HookDelivery.Outcome, detail: String, retryAt: Date?)
        throws(StoreError)
    {
        try write { db in
            let attempt = event.attempts + 1
            if outcome == .failed, let retryAt {
                try db.execute(
                    sql: "UPDATE hook_queue SET attempts = ?, nextAttemptAt = ? WHERE id = ?",
                    arguments: [attempt, retryAt, event.id])
            } else {
                try db.execute(sql: "DELETE FROM hook_queue WHERE id = ?", arguments: [event.id])
            }
            try db.execute(
                sql:
                    "INSERT INTO hook_deliveries (hook, event, eventId, attempt, at, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    event.hook.name, event.event.rawValue, event.id, attempt, Date(), outcome.rawValue,
                    Self.printable(String(detail.prefix(500))),
                ])
            try db.execute(
                sql: "DELETE FROM hook_deliveries WHERE id <= ?",
                arguments: [db.lastInsertedRowID - Int64(Self.hookDeliveryLogLimit)])
        }
    }

    /// The newest `limit` delivery attempts, oldest first.
    public func hookDeliveries(limit: Int) throws(StoreError) -> [HookDelivery] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM (SELECT * FROM hook_deliveries ORDER BY id DESC LIMIT ?) ORDER BY id",
                arguments: [max(limit, 0)]
            ).compactMap { row in
                guard let event = HookEventName(rawValue: row["event"]),
                    let outcome = HookDelivery.Outcome(rawValue: row["outcome"])
                else { return nil }
                return HookDelivery(
                    id: row["id"], hook: row["hook"], event: event, eventId: row["eventId"], attempt: row["attempt"],
                    at: row["at"], outcome: outcome, detail: row["detail"])
            }
        }
    }

    private static func hooks(_ db: Database) throws -> [Hook] {
        try String.fetchAll(db, sql: "SELECT definition FROM hooks ORDER BY name").compactMap {
            try? JSONDecoder().decode(Hook.self, from: Data($0.utf8))
        }
    }
}
