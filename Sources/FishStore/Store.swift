public import FishRecords
public import Foundation
import GRDB
import Synchronization

/// The embedded tracking store and model registry: SQLite (WAL) through GRDB, plus a
/// content-addressed artifact folder. Safe to share between threads and processes.
public final class Store: Sendable {
    /// The database file.
    public let path: String
    /// Run artifacts, stored once by content.
    public let artifacts: ArtifactStore
    /// Whether writes also append what they record to the mirror outbox (a tracking server is configured).
    public let mirrors: Bool
    /// How many outbox entries (for the MLflow mirror and for hooks) this process has written: a
    /// command that wrote some lets the drain send them before it exits.
    public var outboxEntriesWritten: Int { written.load(ordering: .relaxed) }
    let written = Atomic<Int>(0)
    let pool: DatabasePool

    /// Files up to this size get SQLite's `quick_check` (every page and record, no index
    /// cross-checks) when they are opened, and a damaged one is refused; larger ones skip it (it
    /// reads the whole file) and are checked by `fishops doctor`.
    public static let quickCheckLimit = 256 * 1024 * 1024

    /// Opens (creating and migrating if needed) the store in `directory`: `store.sqlite` and
    /// `artifacts/`. Waits up to `busyTimeout` seconds for other writers.
    ///
    /// The database identifies itself (SQLite `application_id` and `user_version`): a database of
    /// another program is refused, and so is an empty or missing one while model packages or
    /// artifacts exist beside it (a new store would number versions from 1 again).
    /// With `mirrors`, every write also appends a `MirrorEvent` to the outbox in its transaction.
    public init(directory: URL, busyTimeout: TimeInterval = 10, mirrors: Bool = false) throws(StoreError) {
        path = directory.appendingPathComponent("store.sqlite").path
        self.mirrors = mirrors
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw .cannotOpen(path: path, detail: "cannot create \(directory.path)")
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        let databasePath = path
        do {
            pool = try FileLock.holding(directory.appendingPathComponent("store.lock")) {
                let fileSize = (try? FileManager.default.attributesOfItem(atPath: databasePath)[.size] as? Int) ?? nil
                if (fileSize ?? 0) == 0, let leftovers = StoreIdentity.leftovers(in: directory) {
                    throw StoreError.emptied(path: databasePath, leftovers: leftovers, missing: fileSize == nil)
                }
                let pool = try DatabasePool(path: databasePath, configuration: configuration)
                try StoreIdentity.check(pool, path: databasePath)
                if (fileSize ?? 0) <= Self.quickCheckLimit {
                    let problems = try pool.read { try String.fetchAll($0, sql: "PRAGMA quick_check(5)") }.filter { $0 != "ok" }
                    if !problems.isEmpty {
                        throw StoreError.corrupt(path: databasePath, detail: problems.joined(separator: "; "))
                    }
                }
                try Schema.migrator.migrate(pool)
                try StoreIdentity.stamp(pool)
                return pool
            }
        } catch {
            throw Self.translate(error, path: databasePath)
        }
        artifacts = try ArtifactStore(root: directory.appendingPathComponent("artifacts"))
    }

    /// Reads with a consistent snapshot, translating database errors.
    func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.read(body) } catch { throw Self.translate(error, path: path) }
    }

    /// Writes in one IMMEDIATE transaction (the write lock is taken before anything is read,
    /// so concurrent read-then-write transactions never fail halfway), translating errors.
    func write<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                guard let result else { throw StoreError.invalid("transaction produced no result") }
                return result
            }
        } catch {
            throw Self.translate(error, path: path)
        }
    }

    /// Runs SQLite's integrity check; returns the problems found (empty when consistent).
    public func integrityProblems() throws(StoreError) -> [String] {
        try read { db in
            try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" }
                + (try Row.fetchAll(db, sql: "PRAGMA foreign_key_check")).map { "foreign key: \($0)" }
        }
    }

    /// SQLite's full integrity check of the store in `directory`, read-only and without opening it
    /// as a store (so a damaged one can be examined): the problems found, empty when consistent.
    public static func integrityReport(directory: URL) -> [String] {
        let path = directory.appendingPathComponent("store.sqlite").path
        guard FileManager.default.fileExists(atPath: path) else { return ["\(path): no store here"] }
        var configuration = Configuration()
        configuration.readonly = true
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            return try queue.read { db in
                try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" }
                    + (try Row.fetchAll(db, sql: "PRAGMA foreign_key_check")).map { "foreign key: \($0)" }
            }
        } catch {
            return ["\(translate(error, path: path))"]
        }
    }

    /// Maps SQLite failures to errors that name the file and say what to do.
    static func translate(_ error: any Error, path: String) -> StoreError {
        if let storeError = error as? StoreError { return storeError }
        guard let databaseError = error as? DatabaseError else {
            // A failure inside a transaction's body (writing a model package, say) is about its own file.
            return .invalid(describeFileError(error))
        }
        let detail = databaseError.message ?? "\(databaseError.resultCode)"
        switch databaseError.resultCode.primaryResultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: return .locked(path: path)
        case .SQLITE_READONLY: return .readOnly(path: path)
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: return .corrupt(path: path, detail: detail)
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH: return .cannotOpen(path: path, detail: detail)
        case .SQLITE_CONSTRAINT: return .invalid("refused by the store: \(detail)")
        default: return .database(path: path, detail: detail)
        }
    }
}
