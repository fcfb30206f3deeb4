import FishMLflow
import FishRecords
import FishStore
import FishTestSupport
import Foundation
import Testing

/// The store mirrored to a real MLflow server (PyPI `mlflow`, started here on loopback): what
/// MLflow's own REST API shows after training, promotions and a rollback; an outage in the middle
/// of a run; wrong credentials.
@Suite(
    .serialized, .enabled(if: Fixtures.binary != nil, "needs the fishops binary (swift build)"),
    .enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"),
    .enabled(if: Fixtures.sharedAvailable, "needs ../shared/datasets"),
    .enabled(if: MLflowServer.executable != nil, "needs the mlflow server of the test venv (make test-deps)"))
struct MLflowMirrorTests {
    static func trainArguments(seed: Int, extra: [String] = []) throws -> [String] {
        [
            "train", "--data", Fixtures.shared.appendingPathComponent("datasets/large-scale-fish").path, "--manifest",
            try PipelineCommandTests.manifest.get(), "--seed", "\(seed)", "--trials", "3", "--json",
        ] + extra
    }

    @Test func trialsMetricsArtifactsVersionsAndAliasesReachMLflowAndFollowARollback() throws {
        let server = try MLflowServer()
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let mirror = ["FISHOPS_MLFLOW_URI": server.url]
        func fishops(_ arguments: [String]) throws -> FishOpsProcess.Result {
            let run = try FishOpsProcess.run(arguments, home: home, environment: mirror)
            try #require(run.status == 0, "fishops \(arguments.joined(separator: " ")): \(run.stderr)")
            return run
        }
        func sync() throws {
            let status = try #require(try fishops(["mlflow", "sync", "--json"]).jsonLines.last?["status"] as? [String: Any])
            try #require(status["pending"] as? Int == 0 && status["rejected"] as? Int == 0, "\(status)")
        }
        let trained = try fishops(try Self.trainArguments(seed: 7))
        // The command gave its drain the time to send the rest before it exited.
        #expect(!trained.stderr.contains("behind"), "\(trained.stderr)")
        let report = try #require(trained.jsonLines.last)
        let runId = try #require(report["run_id"] as? String)
        _ = try fishops(["models", "promote", "fish-classifier", "1", "--reason", "first"])
        try sync()

        // The run, found by its tag, with every param; its 3 trials as child runs.
        let store = try Store(directory: home)
        let runs = try server.runs(experiment: "fish-training", filter: "tags.`fishops.run_id` = '\(runId)'")
        try #require(runs.count == 1)
        let parent = runs[0]
        let local = try store.run(runId)
        #expect(parent.pairs("params") == local.params)
        #expect(parent.info("status") == "FINISHED")
        let parentId = try #require(parent.info("run_id"))
        let trials = try server.runs(experiment: "fish-training", filter: "tags.`mlflow.parentRunId` = '\(parentId)'")
        #expect(trials.count == 3)
        let localTrials = try store.childRuns(of: runId)
        #expect(localTrials.count == 3)

        // Every metric point of the run and of each trial, with its step.
        for (local, remote) in [(runId, parentId)]
            + (try localTrials.map { trial in
                let found = try server.runs(experiment: "fish-training", filter: "tags.`fishops.run_id` = '\(trial.id)'")
                try #require(found.count == 1)
                #expect(found[0].pairs("params") == (try store.run(trial.id)).params)
                return (trial.id, try #require(found[0].info("run_id")))
            })
        {
            let keys = try store.run(local).metrics.map(\.key)
            #expect(!keys.isEmpty)
            for key in keys {
                let points = try server.metricHistory(run: remote, key: key)
                let expected = try store.metricHistory(local, key: key).map { ($0.step, $0.value) }
                #expect(points.map(\.0) == expected.map(\.0), "\(key) of \(local)")
                #expect(points.map(\.1) == expected.map(\.1), "\(key) of \(local)")
            }
        }

        // The artifacts, and the model package beside them.
        let listed = try server.get("artifacts/list", ["run_id": parentId])["files"] as? [[String: Any]] ?? []
        let paths = Set(listed.compactMap { $0["path"] as? String })
        #expect(Set(local.artifacts.map(\.path)).union(["model"]).isSubset(of: paths), "\(paths)")
        let package = try server.get("artifacts/list", ["run_id": parentId, "path": "model"])["files"] as? [[String: Any]]
        let localPackage = try FileManager.default.contentsOfDirectory(
            atPath: home.appendingPathComponent("models/fish-classifier/1").path)
        #expect(
            Set((package ?? []).compactMap { ($0["path"] as? String)?.replacingOccurrences(of: "model/", with: "") })
                == Set(localPackage))

        // Versions and aliases, moved by a second promotion and a rollback.
        func holder(_ alias: String) throws -> String? {
            let version = try server.get("registered-models/alias", ["name": "fish-classifier", "alias": alias])
            let tags = (version["model_version"] as? [String: Any])?["tags"] as? [[String: Any]] ?? []
            return tags.first { $0["key"] as? String == "fishops.version" }?["value"] as? String
        }
        #expect(try holder("production") == "1")
        #expect(try holder("staging") == "1")
        _ = try fishops(try Self.trainArguments(seed: 8))
        _ = try fishops(["models", "promote", "fish-classifier", "2", "--reason", "second", "--force"])
        try sync()
        #expect(try holder("production") == "2")
        #expect(try holder("staging") == "2")
        _ = try fishops(["models", "rollback", "fish-classifier", "--reason", "bad signs"])
        try sync()
        #expect(try holder("production") == "1")
        let model = try server.get("registered-models/get", ["name": "fish-classifier"])
        let latest = (model["registered_model"] as? [String: Any])?["latest_versions"] as? [[String: Any]] ?? []
        #expect(latest.map { $0["version"] as? String } == ["2"])
        // The audit log, replayed as tags of the version it concerns.
        let history = try server.get("registered-models/alias", ["name": "fish-classifier", "alias": "production"])
        let tags = (history["model_version"] as? [String: Any])?["tags"] as? [[String: Any]] ?? []
        #expect(tags.contains { ($0["value"] as? String)?.contains("rollback production v2 -> v1 applied bad signs") == true })
    }

    @Test func aBatchLargerThanMLflowsLimitsArrivesWhole() throws {
        let server = try MLflowServer()
        let client = MLflowClient(MLflowSettings(uri: server.url, environment: [:]))
        let experiment = try client.experimentID(named: "limits")
        #expect(try client.experimentID(named: "limits") == experiment)
        let run = try client.createRun(experimentID: experiment, name: "big", startTime: Date(), user: "tester", tags: [:])
        // 2,500 metric points, 250 params and 150 tags: over the 1,000 items, 100 params and 100 tags of one request.
        let metrics = (0..<2500).map {
            MLflowMetric(key: "m\($0 % 5)", value: Double($0) / 7, timestamp: 1_000 + Int64($0), step: $0 / 5)
        }
        let params = Dictionary(uniqueKeysWithValues: (0..<250).map { ("p\($0)", "value \($0)") })
        let tags = Dictionary(uniqueKeysWithValues: (0..<150).map { ("t\($0)", "\($0)") })
        try client.logBatch(run.runId, metrics: metrics, params: params, tags: tags)
        // What MLflow refuses for what it says sets an entry aside; a server that is away does not.
        let refusal = #expect(throws: MLflowError.self) {
            try client.logBatch(run.runId, params: ["p0": "another value"])  // MLflow never changes a param
        }
        #expect(refusal?.rejectsRequest == true && refusal?.code == "INVALID_PARAMETER_VALUE", "\(String(describing: refusal))")
        let away = MLflowClient(MLflowSettings(uri: "http://127.0.0.1:\(try freeLoopbackPort())", environment: [:]))
        let unreachable = #expect(throws: MLflowError.self) { try away.logBatch(run.runId, params: ["a": "b"]) }
        #expect(unreachable?.rejectsRequest == false)
        for key in 0..<5 { #expect(try server.metricHistory(run: run.runId, key: "m\(key)").count == 500) }
        let stored = try #require(try server.get("runs/get", ["run_id": run.runId])["run"] as? [String: Any])
        #expect(stored.pairs("params").count == 250 && stored.pairs("params") == params)
        #expect(tags.allSatisfy { stored.pairs("tags")[$0.key] == $0.value })
    }

    @Test func anOutageInTheMiddleOfARunIsSyncedAfterwardsExactlyOnce() throws {
        let server = try MLflowServer()
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let mirror = ["FISHOPS_MLFLOW_URI": server.url]
        let errors = Pipe()
        let training = try FishOpsProcess.start(
            try Self.trainArguments(seed: 7, extra: PipelineCommandTests.fineTuneArguments), home: home, errors: errors,
            environment: mirror)
        // The run reaches MLflow while it trains; training is held there while MLflow goes away.
        let deadline = Date().addingTimeInterval(60)
        while (try? server.runs(experiment: "fish-training"))?.isEmpty != false && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        kill(training.processIdentifier, SIGSTOP)
        let held = try Store(directory: home).runs().first { $0.run.parentRunId == nil }
        #expect(held?.run.status == .running, "the run was still training when MLflow stopped")
        server.stop()
        kill(training.processIdentifier, SIGCONT)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        training.waitUntilExit()
        try #require(training.terminationStatus == 0, "\(stderr)")
        #expect(stderr.contains("`fishops mlflow sync` sends the rest"), "the run ended with records left behind: \(stderr)")

        let failed = try FishOpsProcess.run(["mlflow", "sync"], home: home, environment: mirror)
        #expect(failed.status == 1 && failed.stderr.contains("MLflow at \(server.url)"), "\(failed.stderr)")
        try server.start()
        let synced = try FishOpsProcess.run(["mlflow", "sync", "--json"], home: home, environment: mirror)
        try #require(synced.status == 0, "\(synced.stderr)")
        #expect((synced.jsonLines.last?["sent"] as? Int ?? 0) > 0)

        // Every run once, every metric point once, one version.
        let store = try Store(directory: home)
        let local = try store.runs()
        #expect(local.count == 4)
        for run in local {
            let found = try server.runs(experiment: "fish-training", filter: "tags.`fishops.run_id` = '\(run.run.id)'")
            try #require(found.count == 1, "run \(run.run.id) is on MLflow \(found.count) times")
            let remote = try #require(found[0].info("run_id"))
            for summary in run.metrics {
                let points = try server.metricHistory(run: remote, key: summary.key)
                #expect(points.count == summary.count, "\(summary.key) of \(run.run.id)")
            }
        }
        let versions = try server.get("model-versions/search", ["filter": "name='fish-classifier'"])
        #expect((versions["model_versions"] as? [[String: Any]])?.count == 1)
        let again = try FishOpsProcess.run(["mlflow", "sync", "--json"], home: home, environment: mirror)
        #expect(again.status == 0 && again.jsonLines.last?["sent"] as? Int == 0, "\(again.stdout) \(again.stderr)")
    }

    @Test func aSecondMachineServesProductionFromMLflowAndFollowsAPromotion() async throws {
        let server = try MLflowServer()
        let mirror = ["FISHOPS_MLFLOW_URI": server.url]
        // The team's machine: the backbone, a trained version in production, all mirrored.
        let home = try Fixtures.temporaryDirectory()
        func fishops(_ arguments: [String]) throws {
            let run = try FishOpsProcess.run(arguments, home: home, environment: mirror)
            try #require(run.status == 0, "fishops \(arguments.joined(separator: " ")): \(run.stderr)")
        }
        try fishops(["weights", "import", Fixtures.weights.path])
        try fishops(try Self.trainArguments(seed: 7))
        try fishops(["models", "promote", "fish-classifier", "1", "--reason", "first"])
        try fishops(["mlflow", "sync"])

        // A second machine with no store of its own serves what MLflow calls production.
        let reload = 2.0
        let served = try ServeProcess(
            home: try Fixtures.temporaryDirectory(),
            arguments: [
                "--model", "models:/fish-classifier@production", "--reload-seconds", "\(reload)", "--cache-entries", "0",
            ],
            environment: mirror)
        defer { served.stop() }
        let image = try #require(try ServeCommandTests().images.first)
        func answeringVersion() async throws -> Int? {
            let (status, body) = try await served.post("/v1/classify", body: image)
            #expect(status == 200, "\(String(decoding: body, as: UTF8.self))")
            let model = (try JSONSerialization.jsonObject(with: body) as? [String: Any])?["model"] as? [String: Any]
            #expect(model?["name"] as? String == "fish-classifier")
            return model?["version"] as? Int
        }
        #expect(try await answeringVersion() == 1)

        try fishops(try Self.trainArguments(seed: 8))
        try fishops(["models", "promote", "fish-classifier", "2", "--reason", "second", "--force"])
        let promoted = Date()
        try fishops(["mlflow", "sync"])
        var version = try await answeringVersion()
        while version != 2, Date().timeIntervalSince(promoted) < 4 * reload {
            try await Task.sleep(for: .milliseconds(100))
            version = try await answeringVersion()
        }
        let waited = Date().timeIntervalSince(promoted)
        #expect(version == 2 && waited < 2 * reload, "answered with v\(version ?? 0) \(waited) s after the promotion")
    }

    @Test func aSelfSignedServerIsRefusedUnlessInsecureTLSIsAskedFor() throws {
        let server = try MLflowServer(tls: true)
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let mirror = ["FISHOPS_MLFLOW_URI": server.url]
        let trained = try FishOpsProcess.run(try Self.trainArguments(seed: 7), home: home, environment: mirror)
        try #require(trained.status == 0, "\(trained.stderr)")
        let refused = try FishOpsProcess.run(["mlflow", "sync"], home: home, environment: mirror)
        #expect(refused.status == 1 && refused.stderr.contains("MLflow at \(server.url)"), "\(refused.stderr)")
        #expect(refused.stderr.lowercased().contains("certificate"), "\(refused.stderr)")
        let insecure = mirror.merging(["MLFLOW_TRACKING_INSECURE_TLS": "true"]) { $1 }
        let synced = try FishOpsProcess.run(["mlflow", "sync", "--json"], home: home, environment: insecure)
        #expect(synced.status == 0, "\(synced.stderr)")
        #expect((synced.jsonLines.last?["status"] as? [String: Any])?["pending"] as? Int == 0)
        #expect(try server.runs(experiment: "fish-training").count == 4)
    }

    @Test(.enabled(if: MLflowServer.hasAuthApp, "needs mlflow[auth] in the test venv (make test-deps)"))
    func wrongCredentialsGiveOneClearErrorAndLeaveTheStoreAlone() throws {
        let password = "fish-admin-\(UUID().uuidString.prefix(8))"
        let server = try MLflowServer(adminPassword: password)
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let wrong = [
            "FISHOPS_MLFLOW_URI": server.url, "MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": "not-\(password)",
        ]
        let trained = try FishOpsProcess.run(try Self.trainArguments(seed: 7), home: home, environment: wrong)
        try #require(trained.status == 0, "training must not depend on MLflow: \(trained.stderr)")
        let refused = try FishOpsProcess.run(["mlflow", "sync"], home: home, environment: wrong)
        #expect(refused.status == 1)
        let lines = refused.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("MLflow at \(server.url)") && refused.stderr.contains("refused the credentials"))
        #expect(!refused.stderr.contains(password))
        let status = try FishOpsProcess.run(["mlflow", "status", "--json"], home: home, environment: wrong)
        #expect((status.jsonLines.last?["pending"] as? Int ?? 0) > 0)
        #expect(!status.stdout.contains(password))
        #expect(try Store(directory: home).runs().count == 4)

        var right = wrong
        right["MLFLOW_TRACKING_PASSWORD"] = password
        let synced = try FishOpsProcess.run(["mlflow", "sync", "--json"], home: home, environment: right)
        #expect(synced.status == 0, "\(synced.stderr)")
        #expect((synced.jsonLines.last?["status"] as? [String: Any])?["pending"] as? Int == 0)
    }
}

/// A server that is not there: training is unaffected and sync names it.
@Suite(
    .enabled(if: Fixtures.binary != nil, "needs the fishops binary (swift build)"),
    .enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"),
    .enabled(if: Fixtures.sharedAvailable, "needs ../shared/datasets"))
struct MLflowUnreachableTests {
    @Test func aWrongURLGivesOneClearErrorAndTheStoreKeepsEverything() throws {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let url = "http://127.0.0.1:\(try freeLoopbackPort())"
        let mirror = ["FISHOPS_MLFLOW_URI": url]
        let trained = try FishOpsProcess.run(try MLflowMirrorTests.trainArguments(seed: 7), home: home, environment: mirror)
        try #require(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stderr.contains("mlflow:") && trained.stderr.contains("behind"), "\(trained.stderr)")
        let sync = try FishOpsProcess.run(["mlflow", "sync"], home: home, environment: mirror)
        #expect(sync.status == 1)
        #expect(sync.stderr.split(separator: "\n").count == 1 && sync.stderr.contains("MLflow at \(url)"), "\(sync.stderr)")
        #expect(sync.stderr.contains("cannot reach the server"))
        let runs = try FishOpsProcess.run(["runs", "list", "--json"], home: home, environment: mirror)
        let listed = try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [Any]
        #expect(runs.status == 0 && listed?.count == 4)
        let status = try FishOpsProcess.run(["mlflow", "status", "--json"], home: home, environment: mirror)
        let json = try #require(status.jsonLines.last)
        #expect((json["pending"] as? Int ?? 0) > 0 && (json["last_error"] as? String)?.contains(url) == true)
    }
}
