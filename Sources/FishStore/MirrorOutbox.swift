public import FishRecords
public import Foundation
import GRDB
import Synchronization

/// A record the store wrote, as a mirroring tracking server (MLflow) is sent it. Each is written
/// to the outbox in the transaction of the record itself, so the mirror misses nothing the store
/// has and holds nothing the store rolled back.
public enum MirrorEvent: Codable, Sendable, Equatable {
    case runStarted(Run, experiment: String)
    case runEnded(runId: String, status: RunStatus, endTime: Date)
    case params(runId: String, [String: String])
    case tags(runId: String, [String: String])
    case metrics(runId: String, [MetricPoint])
    case artifact(ArtifactRecord)
    case versionRegistered(ModelVersion)
    case evaluation(VersionEvaluation)
    /// Every audit entry: alias moves (applied ones move the server's alias) and refusals.
    case audit(AuditEntry)
}

/// One entry of the outbox, oldest first.
public struct MirrorEntry: Sendable {
    public let id: Int64
    public let createdAt: Date
    /// Nil when the stored entry cannot be read back (it is then rejected, not sent).
    public let event: MirrorEvent?
}

extension Store {
    /// Appends `event` to the outbox inside the caller's transaction, when this store mirrors.
    func enqueue(_ db: Database, _ event: @autoclosure () -> MirrorEvent) throws {
        guard mirrors else { return }
        let text = String(decoding: try JSONEncoder().encode(event()), as: UTF8.self)
        try db.execute(sql: "INSERT INTO mirror_outbox (event, createdAt) VALUES (?, ?)", arguments: [text, Date()])
        written.add(1, ordering: .relaxed)
    }

    /// Up to `limit` entries waiting to be sent, oldest first.
    public func pendingMirrorEntries(limit: Int) throws(StoreError) -> [MirrorEntry] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, event, createdAt FROM mirror_outbox WHERE rejected IS NULL ORDER BY id LIMIT ?",
                arguments: [max(limit, 0)]
            ).map { row in
                let text: String = row["event"]
                return MirrorEntry(
                    id: row["id"], createdAt: row["createdAt"],
                    event: try? JSONDecoder().decode(MirrorEvent.self, from: Data(text.utf8)))
            }
        }
    }

    /// Removes a sent entry and notes when the mirror last made progress.
    public func markMirrorEntrySent(_ id: Int64) throws(StoreError) {
        try write { db in
            try db.execute(sql: "DELETE FROM mirror_outbox WHERE id = ?", arguments: [id])
            try Self.setMirrorState(db, "lastSentAt", Self.timestamp(Date()))
            try db.execute(sql: "DELETE FROM mirror_state WHERE key IN ('lastError', 'lastErrorAt')")
        }
    }

    /// Keeps an entry the server refused for good, with why, and skips it from now on.
    public func rejectMirrorEntry(_ id: Int64, reason: String) throws(StoreError) {
        try write { db in
            try db.execute(sql: "UPDATE mirror_outbox SET rejected = ? WHERE id = ?", arguments: [Self.printable(reason), id])
        }
    }

    /// Puts every refused entry back in line (after the server, or FishOps, was fixed); returns how many.
    public func retryRejectedMirrorEntries() throws(StoreError) -> Int {
        try write { db in
            try db.execute(sql: "UPDATE mirror_outbox SET rejected = NULL WHERE rejected IS NOT NULL")
            return db.changesCount
        }
    }

    /// Notes why the last attempt to reach the server failed (cleared by the next success).
    public func recordMirrorFailure(_ message: String) throws(StoreError) {
        try write { db in
            try Self.setMirrorState(db, "lastError", Self.printable(message))
            try Self.setMirrorState(db, "lastErrorAt", Self.timestamp(Date()))
        }
    }

    /// What the server calls a record of ours (`kind` names the namespace: run, experiment, version).
    public func mirrorID(_ kind: String, _ local: String) throws(StoreError) -> String? {
        try read { db in
            try String.fetchOne(
                db, sql: "SELECT remote FROM mirror_ids WHERE kind = ? AND local = ?", arguments: [kind, local])
        }
    }

    /// Records what the server calls a record of ours.
    public func setMirrorID(_ kind: String, _ local: String, remote: String) throws(StoreError) {
        try write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO mirror_ids (kind, local, remote) VALUES (?, ?, ?)",
                arguments: [kind, local, remote])
        }
    }

    /// The outbox's length, its oldest entry, and the last success and failure (no server named).
    public func mirrorBacklog() throws(StoreError) -> MirrorStatus {
        try read { db in
            let state = Dictionary(
                uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT key, value FROM mirror_state").map {
                    ($0["key"] as String, $0["value"] as String)
                })
            return MirrorStatus(
                server: nil,
                pending: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM mirror_outbox WHERE rejected IS NULL") ?? 0,
                rejected: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM mirror_outbox WHERE rejected IS NOT NULL") ?? 0,
                lastRejection: try String.fetchOne(
                    db, sql: "SELECT rejected FROM mirror_outbox WHERE rejected IS NOT NULL ORDER BY id DESC LIMIT 1"),
                oldestPendingAt: try Date.fetchOne(
                    db, sql: "SELECT createdAt FROM mirror_outbox WHERE rejected IS NULL ORDER BY id LIMIT 1"),
                lastSentAt: state["lastSentAt"].flatMap(Self.date),
                lastError: state["lastError"],
                lastErrorAt: state["lastErrorAt"].flatMap(Self.date))
        }
    }

    private static func setMirrorState(_ db: Database, _ key: String, _ value: String) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO mirror_state (key, value) VALUES (?, ?)", arguments: [key, value])
    }

    private static func timestamp(_ date: Date) -> String { String(date.timeIntervalSince1970) }
    private static func date(_ text: String) -> Date? { Double(text).map(Date.init(timeIntervalSince1970:)) }
}
