import FishRecords
import FishStore
import FishTestSupport
import Foundation
import GRDB
import Synchronization
import Testing

/// Files can be made unwritable: by permissions for ordinary users, by the immutable attribute for root.
let canMakeFilesReadOnly: Bool = {
    if getuid() != 0 { return true }
    return FileManager.default.isExecutableFile(atPath: "/usr/bin/chattr")
}()

func setImmutable(_ path: String, _ on: Bool) throws {
    if getuid() != 0 {
        try FileManager.default.setAttributes([.posixPermissions: on ? 0o444 : 0o644], ofItemAtPath: path)
        return
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
    process.arguments = [on ? "+i" : "-i", path]
    try process.run()
    process.waitUntilExit()
    try #require(process.terminationStatus == 0, "chattr failed on \(path)")
}

@Suite struct DatabaseFailureTests {
    /// Several openers of a new store at the same moment (processes, or threads as here): each
    /// must find it created and migrated once, none may fail with "table already exists".
    @Test func simultaneousFirstOpensAllSucceed() throws {
        for _ in 0..<10 {
            let directory = try Fixtures.temporaryDirectory()
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                do { _ = try Store(directory: directory) } catch { failures.withLock { $0.append("\(error)") } }
            }
            #expect(failures.withLock { $0 }.isEmpty)
            #expect(try Store(directory: directory).integrityProblems().isEmpty)
        }
    }

    @Test func lockedDatabaseNamesTheFile() throws {
        let directory = try Fixtures.temporaryDirectory()
        let store = try Store(directory: directory, busyTimeout: 0.2)
        let holder = try DatabaseQueue(path: store.path)
        try holder.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN EXCLUSIVE")
            defer { try? db.execute(sql: "ROLLBACK") }
            #expect(throws: StoreError.locked(path: store.path)) {
                _ = try store.startRun(experiment: "fish", user: "u", host: "h")
            }
            #expect("\(StoreError.locked(path: store.path))".contains("locked by another process"))
        }
        _ = try store.startRun(experiment: "fish", user: "u", host: "h")  // usable once released
    }

    @Test(.enabled(if: canMakeFilesReadOnly, "needs chattr (as root) or an unprivileged user to make a file read-only"))
    func readOnlyDatabaseNamesTheFile() throws {
        let directory = try Fixtures.temporaryDirectory()
        let path = try Store(directory: directory).path
        // Checkpoint the WAL into the main file, then make the file unwritable.
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try queue.close()
        try setImmutable(path, true)
        defer { try? setImmutable(path, false) }
        #expect {
            let store = try Store(directory: directory, busyTimeout: 0.2)
            _ = try store.startRun(experiment: "fish", user: "u", host: "h")
        } throws: { error in
            guard let error = error as? StoreError else { return false }
            if case .readOnly(path) = error { return "\(error)".contains("read-only") }
            if case .cannotOpen(path, _) = error { return true }
            return false
        }
    }

    @Test func corruptDatabaseNamesTheFileAndTheWayOut() throws {
        let directory = try Fixtures.temporaryDirectory()
        let path = directory.appendingPathComponent("store.sqlite").path
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 * 7) }).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try Store(directory: directory)
        } throws: { error in
            guard case .corrupt(path, _)? = error as? StoreError else { return false }
            return "\(error)".contains("move the file aside")
        }
    }
}
