import FishRecords
import FishStore
import FishTestSupport
import Foundation
import GRDB
import Testing

@Suite struct RegistryTests {
    let ana = ActingUser(user: "ana", host: "h1")

    func storeWithVersions(_ count: Int) throws -> Store {
        let store = try Store(directory: try Fixtures.temporaryDirectory())
        for _ in 0..<count {
            _ = try store.registerVersion(model: "fish", actor: ana) { version in ("sha\(version)", "models/fish/\(version)") }
        }
        return store
    }

    @Test func versionsAreNumberedAndAudited() throws {
        let store = try storeWithVersions(3)
        #expect(try store.versions(model: "fish").map(\.version) == [1, 2, 3])
        #expect(try store.models().map(\.latestVersion) == [3])
        let log = try store.auditLog(model: "fish")
        #expect(
            log.map(\.action) == [.registerVersion, .registerVersion, .registerVersion] && log.map(\.toVersion) == [1, 2, 3])
    }

    @Test func failedPackageWriteRegistersNothing() throws {
        let store = try storeWithVersions(1)
        struct DiskFull: Error {}
        #expect(throws: (any Error).self) {
            _ = try store.registerVersion(model: "fish", actor: ana) { _ in throw DiskFull() }
        }
        #expect(try store.versions(model: "fish").map(\.version) == [1])
        #expect(try store.auditLog(model: "fish").count == 1)
    }

    @Test func aliasMovesAreCompareAndSwap() throws {
        let store = try storeWithVersions(3)
        let first = try store.moveAlias(
            model: "fish", alias: "production", to: 1, expected: .vacant, action: .promote, actor: ana, reason: "first")
        #expect(first.fromVersion == nil && first.toVersion == 1)
        _ = try store.moveAlias(
            model: "fish", alias: "production", to: 2, expected: .version(1), action: .promote, actor: ana, reason: "better")
        #expect {
            _ = try store.moveAlias(
                model: "fish", alias: "production", to: 3, expected: .version(1), action: .promote, actor: ana, reason: "stale")
        } throws: { error in
            guard case let .conflict(message)? = error as? StoreError else { return false }
            return message.contains("now points at v2")
        }
        #expect(try store.aliases(model: "fish") == ["production": 2])
        let last = try #require(try store.auditLog(model: "fish").last)
        #expect(last.outcome == .conflict && last.fromVersion == 2 && last.toVersion == 3 && last.reason == "stale")
        #expect(throws: StoreError.self) {
            _ = try store.moveAlias(
                model: "fish", alias: "staging", to: 9, expected: .unchecked, action: .promote, actor: ana, reason: "x")
        }
    }

    @Test func previousHolderFollowsPromotionsNotRollbacks() throws {
        let store = try storeWithVersions(3)
        for (version, expected) in [(1, ExpectedHolder.vacant), (2, .version(1)), (3, .version(2))] {
            _ = try store.moveAlias(
                model: "fish", alias: "production", to: version, expected: expected, action: .promote, actor: ana, reason: "r")
        }
        #expect(try store.previousHolder(model: "fish", alias: "production")?.previous == 2)
        _ = try store.moveAlias(
            model: "fish", alias: "production", to: 2, expected: .version(3), action: .rollback, actor: ana, reason: "bad")
        #expect(try store.previousHolder(model: "fish", alias: "production")?.previous == 1)
    }

    @Test func versionsAndAuditLogAreAppendOnly() throws {
        let store = try storeWithVersions(1)
        let queue = try DatabaseQueue(path: store.path)
        for sql in [
            "UPDATE model_versions SET packageSha256 = 'x'", "DELETE FROM model_versions",
            "UPDATE audit_log SET reason = 'x'", "DELETE FROM audit_log",
        ] {
            #expect(throws: DatabaseError.self, "\(sql)") { try queue.write { try $0.execute(sql: sql) } }
        }
        #expect(try store.auditLog(model: "fish").count == 1)
    }

    @Test func badNamesAreRefused() throws {
        let store = try storeWithVersions(1)
        #expect(throws: StoreError.self) { _ = try store.registerVersion(model: "../etc", actor: ana) { _ in ("s", "p") } }
        #expect(throws: StoreError.self) {
            _ = try store.moveAlias(
                model: "fish", alias: "", to: 1, expected: .unchecked, action: .promote, actor: ana, reason: "r")
        }
    }
}
