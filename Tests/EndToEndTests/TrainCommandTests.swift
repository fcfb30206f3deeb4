import FishTestSupport
import Foundation
import Testing

/// `fishops train` on the whole large-scale-fish set, then `classify` with the new version.
@Suite(
    .enabled(if: Fixtures.binary != nil, "needs the fishops binary (swift build)"),
    .enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"),
    .enabled(if: Fixtures.sharedAvailable, "needs ../shared/datasets"))
struct TrainCommandTests {
    @Test func trainJsonFollowsTheContractAndTheModelClassifies() throws {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let data = Fixtures.shared.appendingPathComponent("datasets/large-scale-fish")
        let run = try FishOpsProcess.run(["train", "--data", data.path, "--seed", "0", "--json"], home: home)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try #require(run.jsonLines.last)
        let runId = try #require(report["run_id"] as? String)
        let model = try #require(report["model"] as? [String: Any])
        #expect(model["name"] as? String == "fish-classifier" && model["version"] as? Int == 1)
        let metrics = try #require(report["metrics"] as? [String: Double])
        let macroF1 = try #require(metrics["test_macro_f1"])
        #expect(macroF1 >= 0.97, "macro-F1 \(macroF1) on the group-aware test split")
        #expect(metrics["test_accuracy"] != nil && metrics["test_ece"] != nil)

        let shown = try FishOpsProcess.run(["runs", "show", runId], home: home)
        #expect(shown.status == 0 && shown.stdout.contains("test_macro_f1"))
        let bream = data.appendingPathComponent("gilt_head_bream")
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: bream.path).sorted().first)
        let classified = try FishOpsProcess.run(
            [
                "classify", bream.appendingPathComponent(file).path, "--model", "fish-classifier",
                "--json", "--top", "2",
            ], home: home)
        #expect(classified.status == 0, "\(classified.stderr)")
        let line = try #require(classified.jsonLines.first)
        let top = try #require(line["top"] as? [[String: Any]])
        #expect(top.count == 2 && top.first?["label"] as? String == "gilt_head_bream")
    }

    @Test func badOptionsAreUsageErrors() throws {
        let home = try Fixtures.temporaryDirectory()
        let run = try FishOpsProcess.run(["train", "--data", "/tmp", "--search", "annealing"], home: home)
        #expect(run.status == 64 && run.stderr.contains("--search must be random or grid"))
        let missing = try FishOpsProcess.run(["train", "--data", "/nonexistent"], home: home)
        #expect(missing.status == 1 && missing.stderr.contains("imagenet-lite0"))  // no base model in this home
    }
}
