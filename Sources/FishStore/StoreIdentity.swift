import FishRecords
import Foundation
import GRDB

/// How a FishOps store recognises its own database: SQLite's `application_id` header field holds
/// "FISH", and `user_version` the number of schema migrations applied.
enum StoreIdentity {
    /// "FISH" in ASCII.
    static let applicationID: Int32 = 0x4649_5348
    /// The migration every FishOps store has; a database that has it but no application id was
    /// made by a FishOps from before the id was written.
    static let firstMigration = "v1: tracking and registry"

    /// Refuses a database that is not an empty one, a FishOps store, or a FishOps store from before
    /// the id was written; and one whose schema is newer than this program's.
    static func check(_ pool: DatabasePool, path: String) throws {
        let (id, version, tables, migrations) = try pool.read { db in
            (
                try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0,
                try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0,
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"),
                try db.tableExists("grdb_migrations")
                    ? try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") : []
            )
        }
        switch id {
        case applicationID:
            if version > Schema.migrationCount {
                throw StoreError.foreign(
                    path: path,
                    detail:
                        "its schema version \(version) is newer than this FishOps knows (\(Schema.migrationCount)); upgrade FishOps"
                )
            }
        case 0 where tables.isEmpty:
            break  // a new database
        case 0 where migrations.contains(firstMigration):
            break  // a FishOps store from before the id
        case 0:
            throw StoreError.foreign(
                path: path, detail: "it holds the tables \(tables.prefix(5).joined(separator: ", ")) of another program")
        default:
            throw StoreError.foreign(
                path: path, detail: String(format: "its SQLite application id is 0x%08x", UInt32(bitPattern: id)))
        }
    }

    /// Writes the id and the schema version (after migrating).
    static func stamp(_ pool: DatabasePool) throws {
        try pool.writeWithoutTransaction { db in
            if try Int32.fetchOne(db, sql: "PRAGMA application_id") != applicationID {
                try db.execute(sql: "PRAGMA application_id = \(applicationID)")
            }
            if try Int.fetchOne(db, sql: "PRAGMA user_version") != Schema.migrationCount {
                try db.execute(sql: "PRAGMA user_version = \(Schema.migrationCount)")
            }
        }
    }

    /// What in `directory` shows that a store was there: model package folders and artifacts
    /// ("3 model folders and 12 artifacts"), or nil when there is nothing.
    static func leftovers(in directory: URL) -> String? {
        let files = FileManager.default
        let models =
            (try? files.contentsOfDirectory(atPath: directory.appendingPathComponent("models").path))?
            .filter { !$0.hasPrefix(".") } ?? []
        let objects = directory.appendingPathComponent("artifacts/objects").path
        let artifacts = ((try? files.contentsOfDirectory(atPath: objects)) ?? []).flatMap { prefix in
            (try? files.contentsOfDirectory(atPath: "\(objects)/\(prefix)")) ?? []
        }
        var parts: [String] = []
        if !models.isEmpty {
            parts.append(
                "\(models.count) model folder\(models.count == 1 ? "" : "s") (\(models.prefix(3).joined(separator: ", ")))")
        }
        if !artifacts.isEmpty { parts.append("\(artifacts.count) artifact\(artifacts.count == 1 ? "" : "s")") }
        return parts.isEmpty ? nil : parts.joined(separator: " and ")
    }
}
