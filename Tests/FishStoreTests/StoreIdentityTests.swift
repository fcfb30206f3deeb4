import FishRecords
import FishStore
import FishTestSupport
import Foundation
import GRDB
import Testing

/// The store knows its own database: an emptied, foreign or damaged one is refused, never
/// silently replaced (a new store numbered versions from 1 again and replaced model packages).
@Suite struct StoreIdentityTests {
    /// A folder with a store that registered one version (its package folder beside it).
    func homeWithOneVersion() throws -> (URL, String) {
        let home = try Fixtures.temporaryDirectory()
        let store = try Store(directory: home)
        _ = try store.registerVersion(model: "fish", actor: ActingUser(user: "u", host: "h")) { version in
            let folder = home.appendingPathComponent("models/fish/\(version)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            return ("abc", "models/fish/\(version)")
        }
        return (home, store.path)
    }

    @Test func emptiedStoreBesideModelsIsRefused() throws {
        let (home, path) = try homeWithOneVersion()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        #expect(throws: StoreError.emptied(path: path, leftovers: "1 model folder (fish)", missing: false)) {
            _ = try Store(directory: home)
        }
        try FileManager.default.removeItem(atPath: path)
        #expect(throws: StoreError.emptied(path: path, leftovers: "1 model folder (fish)", missing: true)) {
            _ = try Store(directory: home)
        }
        #expect(FileManager.default.fileExists(atPath: home.appendingPathComponent("models/fish/1").path))
        #expect(
            "\(StoreError.emptied(path: path, leftovers: "x", missing: false))".contains("restore store.sqlite from a backup"))
    }

    @Test func foreignDatabaseIsRefusedAndLeftAlone() throws {
        let home = try Fixtures.temporaryDirectory()
        let path = home.appendingPathComponent("store.sqlite").path
        let other = try DatabaseQueue(path: path)
        try other.write { try $0.execute(sql: "CREATE TABLE contacts (name TEXT)") }
        try other.close()
        #expect {
            _ = try Store(directory: home)
        } throws: { error in
            guard case .foreign(path, let detail)? = error as? StoreError else { return false }
            return detail.contains("contacts")
        }
        let tables = try DatabaseQueue(path: path).read {
            try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        #expect(tables == ["contacts"], "no FishOps table was written into it")
    }

    @Test func otherApplicationIdIsRefused() throws {
        let home = try Fixtures.temporaryDirectory()
        let path = home.appendingPathComponent("store.sqlite").path
        let other = try DatabaseQueue(path: path)
        try other.writeWithoutTransaction { try $0.execute(sql: "PRAGMA application_id = 1234") }
        try other.close()
        #expect(throws: StoreError.foreign(path: path, detail: "its SQLite application id is 0x000004d2")) {
            _ = try Store(directory: home)
        }
    }

    @Test func integrityReportOfAHealthyStoreIsEmpty() throws {
        let (home, _) = try homeWithOneVersion()
        #expect(Store.integrityReport(directory: home) == [])
    }

    @Test func storeStampsItsIdentity() throws {
        let (_, path) = try homeWithOneVersion()
        let (id, version) = try DatabaseQueue(path: path).read {
            (try Int32.fetchOne($0, sql: "PRAGMA application_id"), try Int.fetchOne($0, sql: "PRAGMA user_version"))
        }
        #expect(id == 0x4649_5348)
        #expect((version ?? 0) >= 2)
    }

    /// 64 KB of garbage in the middle of the file: every command used to carry on regardless.
    @Test func garbageInTheMiddleIsFound() throws {
        let (home, path) = try homeWithOneVersion()
        let store = try Store(directory: home)
        let run = try store.startRun(experiment: "e", user: "u", host: "h")
        try store.logMetrics(run.id, (0..<5000).map { MetricPoint(key: "loss", value: Double($0), step: $0) })
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try queue.close()
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        let size = try handle.seekToEnd()
        try #require(size > 200_000, "the store is large enough to damage its middle (\(size) bytes)")
        try handle.seek(toOffset: size / 2)
        try handle.write(contentsOf: Data((0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }))
        try handle.close()
        #expect {
            _ = try Store(directory: home)
        } throws: { error in
            guard case .corrupt(path, _)? = error as? StoreError else { return false }
            return true
        }
        #expect(!Store.integrityReport(directory: home).isEmpty)
    }
}
