import FishRecords
import FishStore
import FishTestSupport
import Foundation
import Testing

/// The registry and the store under real processes: concurrent promotions, kill -9, JSON output.
@Suite(.enabled(if: Fixtures.binary != nil, "needs the fishops binary (swift build)"))
struct RegistryCommandTests {
    /// A home whose registry holds `fish` v1...v3 (macro-F1 0.80, 0.85, 0.90 on the same data),
    /// with production at v1.
    func homeWithThreeVersions() throws -> URL {
        let home = try Fixtures.temporaryDirectory()
        let store = try Store(directory: home)
        let actor = ActingUser(user: "setup", host: "test")
        for value in [0.80, 0.85, 0.90] {
            let version = try store.registerVersion(model: "fish", actor: actor) {
                try TestPackages.write(home: home, model: "fish", version: $0)
            }
            try store.addEvaluation(
                model: "fish", version: version.version, evaluationData: "split-A", metrics: ["macro_f1": value])
        }
        _ = try store.moveAlias(
            model: "fish", alias: "production", to: 1, expected: .vacant, action: .promote, actor: actor, reason: "first")
        return home
    }

    @Test func simultaneousPromotionsHaveExactlyOneWinner() throws {
        let home = try homeWithThreeVersions()
        // Both operators saw production at v1 and promote different versions at the same moment.
        let pipes = (0..<2).map { _ in (Pipe(), Pipe()) }
        let processes = try [2, 3].enumerated().map { index, version in
            try FishOpsProcess.start(
                [
                    "models", "promote", "fish", "\(version)", "--reason", "operator \(index)",
                    "--expected-current", "1",
                ], home: home, output: pipes[index].0, errors: pipes[index].1)
        }
        let messages = pipes.map { String(decoding: $0.1.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
        processes.forEach { $0.waitUntilExit() }
        let statuses = processes.map(\.terminationStatus)
        #expect(statuses.sorted() == [0, 3], "exit statuses \(statuses), stderr: \(messages)")
        let loser = try #require(statuses.firstIndex(of: 3))
        #expect(messages[loser].contains("conflict"))

        let store = try Store(directory: home)
        let winnerVersion = [2, 3][1 - loser]
        #expect(try store.aliases(model: "fish") == ["production": winnerVersion])
        let attempts = try store.auditLog(model: "fish").filter { $0.actor == "tester" }
        #expect(attempts.count == 2)
        let applied = try #require(attempts.first { $0.outcome == .applied })
        let conflict = try #require(attempts.first { $0.outcome == .conflict })
        #expect(applied.fromVersion == 1 && applied.toVersion == winnerVersion)
        #expect(conflict.fromVersion == winnerVersion && conflict.toVersion == [2, 3][loser])
        #expect(try store.integrityProblems().isEmpty)
    }

    @Test func cliPromotionGateRollbackAndHistory() throws {
        let home = try homeWithThreeVersions()
        let refused = try FishOpsProcess.run(
            ["models", "promote", "fish", "2", "--reason", "x", "--expected-current", "7"], home: home)
        #expect(refused.status == 3)
        let promoted = try FishOpsProcess.run(["models", "promote", "fish", "3", "--reason", "better F1", "--json"], home: home)
        #expect(promoted.status == 0, "\(promoted.stderr)")
        let move = try #require(promoted.jsonLines.first?["move"] as? [String: Any])
        #expect(move["fromVersion"] as? Int == 1 && move["toVersion"] as? Int == 3)
        let worse = try FishOpsProcess.run(["models", "promote", "fish", "2", "--reason", "try"], home: home)
        #expect(worse.status == 4 && worse.stderr.contains("0.8500") && worse.stderr.contains("0.9000"))
        let rollback = try FishOpsProcess.run(["models", "rollback", "fish", "--reason", "regression"], home: home)
        #expect(rollback.status == 0 && rollback.stdout.contains("from v3 to v1"))
        let history = try FishOpsProcess.run(["models", "history", "fish", "--json"], home: home)
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]])
        #expect(entries.compactMap { $0["outcome"] as? String }.suffix(4) == ["conflict", "applied", "refused", "applied"])
        let list = try FishOpsProcess.run(["models", "list"], home: home)
        #expect(list.stdout.contains("production=v1"))
    }

    /// Starts `fishops bench store` in `directory`, waits until `ready` holds for its store, kills it with SIGKILL.
    func killStoreBenchmark(_ arguments: [String], directory: URL, ready: (Store) throws -> Bool) throws {
        let errors = Pipe()
        let process = try FishOpsProcess.start(
            ["bench", "store", "--directory", directory.path, "--runs", "0"] + arguments,
            home: directory, errors: errors)
        defer {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        let deadline = Date().addingTimeInterval(60)
        var observed = false
        while Date() < deadline && process.isRunning && !observed {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("store.sqlite").path),
                let store = try? Store(directory: directory), (try? ready(store)) == true
            {
                observed = true
            } else {
                usleep(20_000)
            }
        }
        let stderr = process.isRunning ? "" : String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        try #require(observed && process.isRunning, "the benchmark finished or stalled before it could be killed: \(stderr)")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
    }

    @Test func killedWhileLoggingMetricsLeavesAConsistentStore() throws {
        let directory = try Fixtures.temporaryDirectory()
        try killStoreBenchmark(["--points", "50000000"], directory: directory) { store in
            (try store.runs().first?.metrics.first?.count ?? 0) > 20_000
        }
        let store = try Store(directory: directory)
        #expect(try store.integrityProblems().isEmpty)
        let run = try #require(try store.runs().first)
        for summary in run.metrics {
            let points = try store.metricHistory(run.run.id, key: summary.key)
            #expect(points.count == summary.count, "summary of \(summary.key) matches its points")
            #expect(points.map(\.step).max() == summary.lastStep)
        }
        #expect(run.run.status == .running)  // the process never ended it: still visible as such
        _ = try store.startRun(experiment: "after", user: "u", host: "h")  // and the store takes new writes
    }

    @Test func killedWhileWritingArtifactsLeavesAConsistentStore() throws {
        let directory = try Fixtures.temporaryDirectory()
        try killStoreBenchmark(["--points", "0", "--artifacts", "1000000"], directory: directory) { store in
            guard let id = try store.runs().first?.run.id else { return false }
            return try store.run(id).artifacts.count > 200
        }
        let store = try Store(directory: directory)
        #expect(try store.integrityProblems().isEmpty)
        let run = try #require(try store.runs().first)
        let artifacts = try store.run(run.run.id).artifacts
        #expect(artifacts.count > 200)
        for artifact in artifacts {
            #expect(try store.artifacts.get(artifact.sha256).count == Int(artifact.size))
        }
    }
}
