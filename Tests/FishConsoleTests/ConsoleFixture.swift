import FishConsole
import FishServices
import FishStore
import FishTestSupport
import Foundation
import Testing

/// A scratch store with known runs and model versions for the console's tests, and their goldens.
enum ConsoleFixture {
    /// Two finished training runs with metric curves, one failed run, `fish-classifier` v1
    /// (production) and v2 (staging) evaluated on the same test split, and a gone server.
    static func store() throws -> ServiceContext {
        let home = try Fixtures.temporaryDirectory()
        let context = try ServiceContext(config: FishConfig(home: home, threads: 1), environment: ["FISHOPS_USER": "tester"])
        let store = context.store
        for (index, rate) in [0.001, 0.003].enumerated() {
            let run = try store.startRun(
                experiment: "fish-training", runName: "train-\(index == 0 ? "a" : "b")",
                user: "tester", host: "lab")
            try store.logParams(run.id, ["learning_rate": "\(rate)", "seed": "0", "trials": "1"])
            try store.logMetrics(
                run.id,
                (1...12).flatMap { step in
                    [
                        MetricPoint(key: "val_loss", value: 1.0 / Double(step + index), step: step),
                        MetricPoint(key: "val_accuracy", value: 0.5 + 0.04 * Double(step) - 0.01 * Double(index), step: step),
                    ]
                } + [MetricPoint(key: "test_macro_f1", value: 0.95 + 0.02 * Double(index), step: 0)])
            try store.endRun(run.id, status: .finished)
            _ = try store.registerVersion(model: "fish-classifier", sourceRunId: run.id, actor: context.actor) { version in
                try TestPackages.write(home: context.config.home, model: "fish-classifier", version: version)
            }
            try store.addEvaluation(
                model: "fish-classifier", version: index + 1, evaluationData: "test:0123456789abcdef",
                metrics: ["macro_f1": 0.95 + 0.02 * Double(index), "accuracy": 0.96])
            usleep(5_000)  // distinct start times, so "newest first" is well defined
        }
        let failed = try store.startRun(experiment: "fish-training", runName: "train-c", user: "tester", host: "lab")
        try store.endRun(failed.id, status: .failed)
        _ = try store.moveAlias(
            model: "fish-classifier", alias: "production", to: 1, expected: .vacant, action: .promote,
            actor: context.actor, reason: "first")
        _ = try store.moveAlias(
            model: "fish-classifier", alias: "staging", to: 2, expected: .unchecked, action: .promote,
            actor: context.actor, reason: "trained")
        // A server that died without withdrawing its record an hour ago (gone: it is not polled).
        let died = Date().addingTimeInterval(-3600)
        try store.announceServer(
            ServerRecord(
                url: "http://fish-a:8080", host: "lab", pid: 4242, model: "fish-classifier",
                alias: "production", version: 1, startedAt: died.addingTimeInterval(-600), heartbeatAt: died))
        return context
    }

    /// Compares the screen with `Golden/NAME.txt`; `FISHOPS_RECORD_GOLDEN=1` writes it instead.
    static func expectGolden(_ canvas: Canvas, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
        if let mismatch = GoldenScreens.mismatch(GoldenScreens.normalised(canvas.text), named: name, in: folder) {
            Issue.record(Comment(rawValue: mismatch), sourceLocation: sourceLocation)
        }
    }
}
