import FishNeural
import FishServices
import FishStore
import FishTestSupport
import Foundation
import Testing

let canTrain = Fixtures.weightsAvailable && Fixtures.sharedAvailable

/// The training pipeline on real fish photos (a 36-image subset, to stay quick in debug builds).
@Suite(.enabled(if: canTrain, "needs the pretrained weights (make setup) and ../shared/datasets"))
struct TrainingServiceTests {
    /// A home with the base model imported.
    func context() throws -> ServiceContext {
        let context = try ServiceContext(config: FishConfig(home: try Fixtures.temporaryDirectory(), threads: 2))
        _ = try WeightsService(context: context).importImageNetWeights(path: Fixtures.weights.path)
        return context
    }

    /// A manifest of 12 photos of each of 3 species, paths relative to the dataset.
    func subset() throws -> TrainingSpec {
        let data = Fixtures.shared.appendingPathComponent("datasets/large-scale-fish")
        var lines: [String] = []
        for species in ["gilt_head_bream", "shrimp", "trout"] {
            let files = try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent(species).path).sorted()
            lines += files.prefix(12).map { "\(species)/\($0),\(species)" }
        }
        let manifest = try Fixtures.file(named: "subset.csv", contents: Data(lines.joined(separator: "\n").utf8))
        var spec = TrainingSpec(data: data.path)
        spec.manifest = manifest
        spec.validationFraction = 0.25
        spec.testFraction = 0.25
        spec.augmentedViews = 1
        spec.trials = 2
        return spec
    }

    @Test func sameSeedSameMetricsAndTheCacheSavesAllBackboneWork() throws {
        let context = try context()
        let spec = try subset()
        let service = TrainingService(context: context)
        let first = try service.train(spec)
        let second = try service.train(spec)
        #expect(first.features.computed > 0 && first.features.cached == 0)
        #expect(second.features.computed == 0 && second.features.cached == first.features.computed)
        #expect(first.evaluation == second.evaluation)
        #expect(first.evaluationData == second.evaluationData)
        #expect(first.trials.map(\.validationLoss) == second.trials.map(\.validationLoss))
        #expect(first.model.version == 1 && second.model.version == 2)
        // 27 training-eligible images, 1 augmented view each; 9 validation and test images get the original only.
        #expect(first.features.computed == first.split.train * 2 + first.split.validation + first.split.test)

        var otherSeed = spec
        otherSeed.seed = 1
        let third = try service.train(otherSeed)
        #expect(third.evaluationData != first.evaluationData)
        #expect(third.features.computed < first.features.computed)  // only views of newly-training images
    }

    @Test func theRunTheVersionAndClassifyFitTogether() throws {
        let context = try context()
        let report = try TrainingService(context: context).train(try subset())
        #expect(report.metrics["test_accuracy"] ?? 0 >= 0.8)
        #expect(report.metrics["test_macro_f1"] != nil && report.metrics["test_ece"] != nil)
        #expect(report.evaluation.confusion.count == 3 && report.evaluation.count == report.split.test)

        let store = context.store
        let run = try store.run(report.runId)
        #expect(run.run.status == .finished && run.params["seed"] == "0" && run.params["trials"] == "2")
        #expect(Set(run.artifacts.map(\.path)) == ["dataset_check.json", "evaluation.json", "report.json", "trials.json"])
        #expect(run.metrics.contains { $0.key == "test_macro_f1" })
        let children = try store.runs().filter { $0.run.parentRunId == report.runId }
        #expect(children.count == 2 && children.allSatisfy { $0.run.status == .finished })
        for child in children {
            let keys = Set(child.metrics.map(\.key))
            #expect(keys.isSuperset(of: ["train_loss", "train_accuracy", "val_loss", "val_accuracy"]))
            #expect(try store.metricHistory(child.run.id, key: "val_loss").count >= 2)
        }

        #expect(try store.aliases(model: "fish-classifier") == ["staging": 1])
        let evaluations = try store.evaluations(model: "fish-classifier", version: 1)
        #expect(evaluations.map(\.evaluationData) == [report.evaluationData])
        let model = try ClassificationService(context: context).loadModel(name: "fish-classifier")
        #expect(model.metadata.backbone?.model == "imagenet-lite0" && model.metadata.trainingRunId == report.runId)
        #expect(model.metadata.classNames == ["gilt_head_bream", "shrimp", "trout"])

        let shrimp = Fixtures.shared.appendingPathComponent("datasets/large-scale-fish/shrimp")
        let last = try FileManager.default.contentsOfDirectory(atPath: shrimp.path).sorted().suffix(3)  // not in the subset
        var labels: [String] = []
        ClassificationService(context: context).classify(
            files: last.map { shrimp.appendingPathComponent($0).path },
            model: model, top: 1
        ) { result in
            labels.append((try? result.outcome.get())?.first?.label ?? "failed")
        }
        #expect(labels == ["shrimp", "shrimp", "shrimp"])
    }

    @Test func cancellingMarksTheRunKilledAndRegistersNothing() throws {
        let context = try context()
        let cancellation = CancellationFlag()
        #expect(throws: ServiceError.cancelled) {
            _ = try TrainingService(context: context).train(try subset(), cancellation: cancellation) { event in
                if case .stage(.extract) = event { cancellation.cancel() }
            }
        }
        let runs = try context.store.runs()
        #expect(runs.count == 1 && runs.first?.run.status == .killed)
        #expect(!(try context.store.models().contains { $0.name == "fish-classifier" }))
    }

    @Test func badSpecsAreRefusedBeforeAnyWork() throws {
        let context = try context()
        var spec = try subset()
        spec.hyperparameters.learningRate = -1
        #expect(throws: ServiceError.invalidArgument("learning rate must be in (0, 10)")) {
            _ = try TrainingService(context: context).train(spec)
        }
        spec = TrainingSpec(data: "/nonexistent/folder")
        #expect(throws: ServiceError.self) { _ = try TrainingService(context: context).train(spec) }
        #expect(try context.store.runs().isEmpty)
    }
}
