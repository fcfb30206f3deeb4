import FishCluster
import FishImaging
import FishNeural
import FishStore
import Foundation

/// A trained model ready to register: its temperature, calibrated test probabilities and package.
struct ScoredModel {
    struct Package {
        let tensors: [String: HostTensor]
        let architecture: String
    }

    let temperature: Double
    /// `test.count * classes` calibrated probabilities.
    let testProbabilities: [Double]
    var package: Package

    /// Calibrates `head` on `validation` (temperature scaling) and scores `test`.
    init(head: ClassifierHead, validation: LabelledFeatures, test: LabelledFeatures) {
        temperature = TemperatureScaling.fit(head, validation: validation)
        let calibrated = TemperatureScaling.apply(temperature, to: head)
        let logits = calibrated.logits(test.features, count: test.count)
        testProbabilities = (0..<test.count).flatMap { row in
            Softmax.probabilities(logits[(row * head.classes)..<((row + 1) * head.classes)])
        }
        package = Package(tensors: calibrated.tensors, architecture: "classifier-head")
    }
}

extension TrainingJob {
    /// The finetune stage: one worker task that trains the backbone's last blocks with the best
    /// trial's head on augmented images, checkpointing every epoch (a retried or resumed task
    /// continues from the checkpoint).
    func fineTune(
        _ settings: FineTuneSettings, headTrial: Int, requests: [(request: FeatureRequest, label: Int, part: SplitPart)],
        runner: TaskRunner
    ) throws -> (result: FineTuneResult, figures: StageTasks.Figures) {
        let originals = requests.filter { $0.request.view == 0 }
        let train = originals.filter { $0.part == .train }
        let validation = originals.filter { $0.part == .validation }
        let task = WorkerTask(
            id: "finetune-000", kind: .finetune,
            result: workDirectory.appendingPathComponent("results/finetune.safetensors").path,
            finetune: .init(
                backbonePackage: backbonePackage.path, preprocessing: preprocessing, maxPixels: context.config.maxPixels,
                head: workDirectory.appendingPathComponent(String(format: "results/trial-%03d.safetensors", headTrial)).path,
                train: train.map(\.request), trainLabels: train.map(\.label), validation: validation.map(\.request),
                validationLabels: validation.map(\.label), classes: dataset.classNames.count, settings: settings,
                seed: spec.seed, checkpoint: workDirectory.appendingPathComponent("checkpoints/finetune.safetensors").path,
                threads: spec.cluster.backend == .local ? context.config.threads : nil))
        let (events, store, runId) = (self.events, context.store, run.id)
        let figures = try stageTasks(.finetune, runner: runner).run(
            [task], isCancelled: isCancelled,
            progress: { statuses in
                if let status = statuses[task.id], let done = status.done {
                    events(.progress(.finetune, done: done, total: settings.epochs))
                }
            },
            finished: { task in
                let result = try FineTuneResult.read(URL(fileURLWithPath: task.result))
                try store.logMetrics(runId, result.epochs.flatMap { $0.metricPoints(prefix: "finetune_") })
            })
        return (try FineTuneResult.read(URL(fileURLWithPath: task.result)), figures)
    }

    /// Runs the validation and test images through the fine-tuned network, calibrates its
    /// classifier and packages the whole network (the calibrated classifier included).
    func scoreFineTuned(_ result: FineTuneResult, requests: [(request: FeatureRequest, label: Int, part: SplitPart)]) throws
        -> ScoredModel
    {
        let base = try ModelPackage.open(backbonePackage).loadWeights()
        let classes = dataset.classNames.count
        var tensors = FineTunedNetwork.merge(base, result.parameters, classes: classes)
        let engine = try InferenceEngine(tensors: tensors, threads: context.config.threads)
        func embeddings(_ part: SplitPart) throws -> LabelledFeatures {
            let chosen = requests.filter { $0.part == part && $0.request.view == 0 }
            var features: [Float] = []
            for start in stride(from: 0, to: chosen.count, by: 32) {
                if isCancelled() { throw ServiceError.cancelled }
                let slice = chosen[start..<min(start + 32, chosen.count)]
                let input = try ImageBatch.tensor(
                    slice.map(\.request.path), preprocessing: preprocessing,
                    maxPixels: context.config.maxPixels, threads: context.config.threads)
                features += input.withUnsafeBufferPointer {
                    engine.forward($0, batch: slice.count, size: preprocessing.inputSize).embeddings
                }
            }
            return LabelledFeatures(features: features, labels: chosen.map(\.label), dimension: EfficientNetLite.embeddingSize)
        }
        let width = EfficientNetLite.embeddingSize
        let head = try ClassifierHead(tensors: [
            "head.input_mean": HostTensor(shape: [width], values: [Float](repeating: 0, count: width)),
            "head.input_scale": HostTensor(shape: [width], values: [Float](repeating: 1, count: width)),
            "head.output.weight": HostTensor(shape: [classes, width], values: result.parameters["_fc.weight"] ?? []),
            "head.output.bias": HostTensor(shape: [classes], values: result.parameters["_fc.bias"] ?? []),
        ])
        var model = ScoredModel(head: head, validation: try embeddings(.validation), test: try embeddings(.test))
        let calibrated = TemperatureScaling.apply(model.temperature, to: head)
        tensors["_fc.weight"] = HostTensor(shape: [classes, width], values: calibrated.outputWeights)
        tensors["_fc.bias"] = HostTensor(shape: [classes], values: calibrated.outputBias)
        model.package = .init(tensors: tensors, architecture: engine.architecture.name)
        return model
    }
}
