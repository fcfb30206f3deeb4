import FishTestSupport
import Foundation
import Testing

/// The training pipeline's workers with real processes: a worker killed mid-shard, a coordinator
/// killed mid-pipeline and resumed, and the Slurm backend on a real (local) Slurm cluster. Each
/// must end with the metrics of an undisturbed local run with the same seed.
@Suite(
    .enabled(if: Fixtures.binary != nil, "needs the fishops binary (swift build)"),
    .enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"),
    .enabled(if: Fixtures.sharedAvailable, "needs ../shared/datasets"))
struct PipelineCommandTests {
    /// 24 photos of each of 4 species; 96 images make 2 extraction shards of 48.
    static let manifest: Result<String, any Error> = Result {
        let data = Fixtures.shared.appendingPathComponent("datasets/large-scale-fish")
        var lines: [String] = []
        for species in ["gilt_head_bream", "red_mullet", "shrimp", "trout"] {
            let files = try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent(species).path).sorted()
            lines += files.prefix(24).map { "\(species)/\($0),\(species)" }
        }
        return try Fixtures.file(named: "pipeline-subset.csv", contents: Data(lines.joined(separator: "\n").utf8))
    }

    static func trainArguments(shardSize: Int) throws -> [String] {
        [
            "train", "--data", Fixtures.shared.appendingPathComponent("datasets/large-scale-fish").path, "--manifest",
            try manifest.get(),
            "--seed", "7", "--trials", "2", "--shard-size", "\(shardSize)", "--workers", "2", "--json",
        ]
    }

    /// The undisturbed local run every other run is compared with.
    static let reference: Result<[String: Double], any Error> = Result {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let run = try FishOpsProcess.run(try trainArguments(shardSize: 48), home: home)
        guard run.status == 0, let metrics = run.jsonLines.last?["metrics"] as? [String: Double] else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "reference run failed: \(run.stderr)"])
        }
        return metrics
    }

    static let fineTuneArguments = ["--finetune", "--finetune-epochs", "3", "--finetune-learning-rate", "1e-4"]

    /// An undisturbed fine-tuning run.
    static let fineTuneReference: Result<[String: Double], any Error> = Result {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let run = try FishOpsProcess.run(try trainArguments(shardSize: 48) + fineTuneArguments, home: home)
        guard run.status == 0, let metrics = run.jsonLines.last?["metrics"] as? [String: Double] else {
            throw CocoaError(
                .fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "fine-tuning reference run failed: \(run.stderr)"])
        }
        return metrics
    }

    /// The figures that must not depend on how the work was scheduled.
    static func outcome(_ metrics: [String: Double]) -> [String: Double] {
        metrics.filter {
            ["test_accuracy", "test_macro_f1", "test_ece", "val_loss", "val_accuracy", "temperature"].contains($0.key)
        }
    }

    @Test func aWorkerKilledMidShardIsRetriedAndTheRunEndsAsAnUndisturbedOne() throws {
        // A worker that has embedded its first batch of 32 (of 48) is killed.
        try expectRetriedRun(extraArguments: [], signal: SIGKILL) { log in
            log.contains(#""done":32"#) && !log.contains(#""event":"done""#)
        }
    }

    @Test func aHungWorkerIsKilledAfterItsHeartbeatTimeoutAndItsTaskRetried() throws {
        // A worker stopped (SIGSTOP) right after it starts sends no more heartbeats.
        try expectRetriedRun(extraArguments: ["--heartbeat-timeout", "3"], signal: SIGSTOP) { log in
            log.contains(#""event":"start""#) && !log.contains(#""event":"done""#)
        }
    }

    /// Trains the reference set while sending `signal` to the first worker whose log satisfies
    /// `when`, then checks that its task was retried once and (for head-only runs) that the run
    /// matches the reference. Returns the run's metrics.
    @discardableResult
    func expectRetriedRun(extraArguments: [String], signal: Int32, when: (String) -> Bool) throws -> [String: Double] {
        let reference = try Self.reference.get()
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let output = Pipe()
        let errors = Pipe()
        let coordinator = try FishOpsProcess.start(
            try Self.trainArguments(shardSize: 48) + extraArguments, home: home,
            output: output, errors: errors)
        var disturbed: String?
        let deadline = Date().addingTimeInterval(120)
        while disturbed == nil, coordinator.isRunning, Date() < deadline {
            for log in Self.files(in: home, "logs") where when((try? String(contentsOf: log, encoding: .utf8)) ?? "") {
                let task = log.deletingPathExtension().lastPathComponent
                if let pid = Self.workerPid(task: task, home: home) {
                    kill(pid, signal)
                    disturbed = task
                    break
                }
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        coordinator.waitUntilExit()
        let task = try #require(disturbed, "no worker was caught in the act")
        #expect(coordinator.terminationStatus == 0, "\(stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: stdout) as? [String: Any])
        let metrics = try #require(report["metrics"] as? [String: Double])
        #expect(metrics["task_retries"] == 1)
        if extraArguments.isEmpty { #expect(Self.outcome(metrics) == Self.outcome(reference)) }
        let runId = try #require(report["run_id"] as? String)
        let show = try FishOpsProcess.run(["pipeline", "show", runId, "--json"], home: home)
        let tasks = try #require(show.jsonLines.first?["tasks"] as? [[String: Any]])
        let retried = try #require(tasks.first { $0["taskId"] as? String == task })
        #expect(retried["attempts"] as? Int == 2 && retried["state"] as? String == "COMPLETED")
        let stages = try #require(show.jsonLines.first?["stages"] as? [[String: Any]])
        #expect(
            stages.map { $0["stage"] as? String }
                == ["validate", "extract", "train", "finetune", "evaluate", "register", "gate", "promote", "report"])
        #expect(stages.allSatisfy { ["done", "skipped"].contains($0["state"] as? String) })
        return metrics
    }

    @Test func fineTuningKilledMidEpochResumesFromItsCheckpointToTheSameResult() throws {
        let reference = try Self.fineTuneReference.get()
        #expect(reference["finetune_epochs"] == 3)
        // The fine-tuning worker is killed as soon as it has checkpointed epoch 1, i.e. early in epoch 2.
        let metrics = try expectRetriedRun(extraArguments: Self.fineTuneArguments, signal: SIGKILL) { log in
            log.contains(#""task":"finetune-000""#) && log.contains(#""done":1,"event":"epoch""#)
                && !log.contains(#""done":2,"event":"epoch""#)
        }
        for key in [
            "test_accuracy", "test_macro_f1", "test_ece", "val_loss", "val_accuracy", "temperature", "finetune_best_epoch",
        ] {
            let (resumed, undisturbed) = (metrics[key] ?? .nan, reference[key] ?? .nan)
            #expect(abs(resumed - undisturbed) <= 1e-6, "\(key): \(resumed) after the kill, \(undisturbed) undisturbed")
        }
    }

    @Test func aFineTunedVersionIsAWholeNetworkThatClassifies() throws {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let run = try FishOpsProcess.run(
            try Self.trainArguments(shardSize: 48) + ["--finetune", "--finetune-epochs", "1"], home: home)
        #expect(run.status == 0, "\(run.stderr)")
        let shown = try FishOpsProcess.run(["models", "show", "fish-classifier", "--json"], home: home)
        #expect(shown.status == 0 && shown.stdout.contains("fish-classifier"))
        let package = home.appendingPathComponent("models/fish-classifier/1/model.json")
        let metadata = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: package)) as? [String: Any])
        #expect(metadata["architecture"] as? String == "efficientnet-lite0" && metadata["backbone"] == nil)
        let trout = Fixtures.shared.appendingPathComponent("datasets/large-scale-fish/trout")
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: trout.path).sorted().last)
        let classified = try FishOpsProcess.run(
            ["classify", trout.appendingPathComponent(file).path, "--model", "fish-classifier", "--json"],
            home: home)
        #expect(classified.status == 0, "\(classified.stderr)")
        let top = try #require(classified.jsonLines.first?["top"] as? [[String: Any]])
        #expect(["gilt_head_bream", "red_mullet", "shrimp", "trout"].contains(top.first?["label"] as? String ?? ""))
    }

    @Test func aKilledCoordinatorResumesWithoutRecomputingFinishedShards() throws {
        let reference = try Self.reference.get()
        let home = try ClassifyCommandTests.homeWithBaseModel()
        // 8 shards of 12 on 2 workers: kill the coordinator once the store shows a finished shard.
        let coordinator = try FishOpsProcess.start(try Self.trainArguments(shardSize: 12), home: home)
        let deadline = Date().addingTimeInterval(120)
        var runId: String?
        while coordinator.isRunning, Date() < deadline {
            runId =
                runId ?? (try? FileManager.default.contentsOfDirectory(atPath: home.appendingPathComponent("work").path))?.first
            if let runId,
                let tasks = try FishOpsProcess.run(["pipeline", "show", runId, "--json"], home: home).jsonLines.first?["tasks"]
                    as? [[String: Any]], tasks.contains(where: { $0["state"] as? String == "COMPLETED" })
            {
                break
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        // While the coordinator lives, a resume is refused (it would run the trials twice).
        if let runId, coordinator.isRunning {
            let early = try FishOpsProcess.run(["pipeline", "resume", runId], home: home)
            #expect(early.status == 1 && early.stderr.contains("live coordinator"), "\(early.stderr)")
            let shown = try FishOpsProcess.run(["pipeline", "show", runId, "--json"], home: home).jsonLines.first
            #expect(shown?["coordinator"] as? String == "alive" || !coordinator.isRunning)
        }
        kill(coordinator.processIdentifier, SIGKILL)
        coordinator.waitUntilExit()
        #expect(coordinator.terminationReason == .uncaughtSignal)
        let run = try #require(runId)

        let before = try FishOpsProcess.run(["pipeline", "show", run, "--json"], home: home)
        let status = try #require(before.jsonLines.first)
        #expect(status["runStatus"] as? String == "RUNNING")
        #expect(status["coordinator"] as? String == "gone", "a RUNNING run whose coordinator died says so")
        let text = try FishOpsProcess.run(["pipeline", "show", run], home: home).stdout
        #expect(text.contains("no process is coordinating it") && text.contains("fishops pipeline resume \(run)"))
        let tasksBefore = try #require(status["tasks"] as? [[String: Any]])
        let finishedBefore = tasksBefore.filter { $0["state"] as? String == "COMPLETED" }.compactMap { $0["taskId"] as? String }
        #expect(finishedBefore.count >= 1 && finishedBefore.count < 8, "finished before the kill: \(finishedBefore)")

        let resumed = try FishOpsProcess.run(["pipeline", "resume", run, "--json"], home: home)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let report = try #require(resumed.jsonLines.last)
        #expect(report["run_id"] as? String == run)
        let metrics = try #require(report["metrics"] as? [String: Double])
        #expect(metrics["shards_total"] == 8)
        #expect(metrics["shards_reused"] == Double(finishedBefore.count))
        #expect(metrics["shards_run"] == Double(8 - finishedBefore.count))
        #expect(Self.outcome(metrics) == Self.outcome(reference))

        let after = try FishOpsProcess.run(["pipeline", "show", run, "--json"], home: home)
        let tasksAfter = try #require(after.jsonLines.first?["tasks"] as? [[String: Any]])
        for task in tasksAfter where finishedBefore.contains(task["taskId"] as? String ?? "") {
            #expect(task["attempts"] as? Int == 1, "\(task)")  // never submitted again
        }
        #expect(after.jsonLines.first?["runStatus"] as? String == "FINISHED")
        #expect(after.jsonLines.first?["coordinator"] == nil, "an ended run has no coordinator to report")
        let again = try FishOpsProcess.run(["pipeline", "resume", run], home: home)
        #expect(again.status == 1 && again.stderr.contains("already finished"))
    }

    @Test(.enabled(if: slurmReachable, "needs a Slurm cluster: scripts/slurm-local-cluster start, then export SLURM_CONF"))
    func theSlurmBackendEndsWithTheLocalBackendsMetrics() throws {
        let reference = try Self.reference.get()
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let run = try FishOpsProcess.run(try Self.trainArguments(shardSize: 48) + ["--backend", "slurm"], home: home)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try #require(run.jsonLines.last)
        let metrics = try #require(report["metrics"] as? [String: Double])
        #expect(Self.outcome(metrics) == Self.outcome(reference))
        let pipeline = try #require(report["pipeline"] as? [String: Any])
        #expect(pipeline["backend"] as? String == "slurm")
        // The array elements' output files are the task logs.
        let logs = Self.files(in: home, "slurm/logs")
        #expect(logs.count == 4)  // 2 shards + 2 trials
        #expect(logs.allSatisfy { ((try? String(contentsOf: $0, encoding: .utf8)) ?? "").contains(#""event":"done""#) })
        let cluster = try FishOpsProcess.run(["cluster", "--backend", "slurm", "--json"], home: home)
        let nodes = try #require(cluster.jsonLines.first?["nodes"] as? [[String: Any]])
        #expect(!nodes.isEmpty && nodes.allSatisfy { ($0["cpus"] as? Int ?? 0) > 0 })
    }

    /// Files in `<home>/work/<run>/<folder>` of every run.
    static func files(in home: URL, _ folder: String) -> [URL] {
        let work = home.appendingPathComponent("work")
        let runs = (try? FileManager.default.contentsOfDirectory(atPath: work.path)) ?? []
        return runs.flatMap { run in
            let directory = work.appendingPathComponent(run).appendingPathComponent(folder)
            return ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
                .filter { !$0.hasPrefix(".") }.map { directory.appendingPathComponent($0) }
        }
    }

    /// The pid of the `fishops worker` running `task` of a run in `home`.
    static func workerPid(task: String, home: URL) -> Int32? {
        let processes = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in processes {
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else {
                continue
            }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if arguments.contains("worker"), arguments.last?.hasPrefix(home.path) == true,
                arguments.last?.hasSuffix("/\(task).json") == true
            {
                return pid
            }
        }
        return nil
    }
}

/// Whether a Slurm cluster answers (`SLURM_CONF` set and `sinfo` working).
let slurmReachable: Bool = {
    guard let conf = ProcessInfo.processInfo.environment["SLURM_CONF"], FileManager.default.fileExists(atPath: conf) else {
        return false
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sinfo")
    process.arguments = ["-h"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}()
