import FishCluster
import FishImaging
import FishNeural
import Foundation

/// Executes one worker task: the body of `fishops worker` (`WorkerProcess`) and of the in-process backend.
/// Results are written atomically, and a task whose result already exists is not redone.
struct WorkerService: Sendable {
    let threads: Int

    init(threads: Int) {
        self.threads = max(threads, 1)
    }

    /// Runs `task`, reporting progress through `emit`; returns when its result is on disk.
    func run(_ task: WorkerTask, emit: (WorkerMessage) -> Void, isCancelled: () -> Bool = { false }) throws {
        emit(WorkerMessage(event: "start", task: task.id))
        let result = URL(fileURLWithPath: task.result)
        if isComplete(task) {
            emit(WorkerMessage(event: "done", task: task.id, reused: true))
            return
        }
        switch task.kind {
        case .extract:
            guard let extract = task.extract else { throw ServiceError.invalidArgument("task \(task.id) has no extract section") }
            let counters = try runExtract(extract, result: result, emit: emit, isCancelled: isCancelled)
            emit(
                WorkerMessage(
                    event: "done", task: task.id, reused: false,
                    values: ["computed": Double(counters.computed), "cached": Double(counters.cached)]))
        case .trial:
            guard let trial = task.trial else { throw ServiceError.invalidArgument("task \(task.id) has no trial section") }
            try runTrial(trial, result: result, emit: emit, isCancelled: isCancelled)
            emit(WorkerMessage(event: "done", task: task.id, reused: false))
        case .finetune:
            guard let finetune = task.finetune else {
                throw ServiceError.invalidArgument("task \(task.id) has no finetune section")
            }
            try FineTuneJob(task: finetune, threads: finetune.threads ?? threads).run(
                result: result, emit: emit, isCancelled: isCancelled)
            emit(WorkerMessage(event: "done", task: task.id, reused: false))
        }
    }

    /// Whether the task's result is already written and readable.
    func isComplete(_ task: WorkerTask) -> Bool {
        let result = URL(fileURLWithPath: task.result)
        switch task.kind {
        case .extract: return (try? FeatureFile.read(result))?.features.count == task.extract?.images.count
        case .trial: return (try? TrialResult.read(result)) != nil
        case .finetune: return (try? FineTuneResult.read(result)) != nil
        }
    }

    private func runExtract(
        _ extract: WorkerTask.Extract, result: URL, emit: (WorkerMessage) -> Void,
        isCancelled: () -> Bool
    ) throws -> FeatureExtractor.Counters {
        guard extract.labels.count == extract.images.count else {
            throw ServiceError.invalidArgument(
                "the extract task has \(extract.images.count) images but \(extract.labels.count) labels")
        }
        let package = try ModelPackage.open(URL(fileURLWithPath: extract.backbonePackage))
        let backbone = try LoadedModel(package: package, threads: threads)
        let extractor = FeatureExtractor(
            backbone: backbone, preprocessing: extract.preprocessing,
            cacheDirectory: URL(fileURLWithPath: extract.featureCache), maxPixels: extract.maxPixels, threads: threads)
        var counters = FeatureExtractor.Counters()
        let features = try extractor.features(
            extract.images, counters: &counters,
            progress: { emit(WorkerMessage(event: "progress", done: $0, total: $1)) },
            isCancelled: isCancelled)
        try FeatureFile.write(
            LabelledFeatures(features: features, labels: extract.labels, dimension: backbone.engine.embeddingWidth),
            counters: counters, to: result)
        return counters
    }

    private func runTrial(_ trial: WorkerTask.Trial, result: URL, emit: (WorkerMessage) -> Void, isCancelled: () -> Bool) throws {
        let train = try FeatureFile.read(URL(fileURLWithPath: trial.train)).features
        let validation = try FeatureFile.read(URL(fileURLWithPath: trial.validation)).features
        let trainer = HeadTrainer(hyperparameters: trial.hyperparameters, classes: trial.classes, seed: trial.seed)
        let epochs = trial.hyperparameters.epochs
        let (head, records) = trainer.train(train, validation: validation) { record in
            WorkerMessage.epochLines(record, of: epochs).forEach(emit)
            return !isCancelled()
        }
        if isCancelled() { throw ServiceError.cancelled }
        let (loss, accuracy) = HeadTrainer.evaluate(head, validation)
        try TrialResult(head: head, epochs: records, validationLoss: loss, validationAccuracy: accuracy).write(to: result)
    }
}

extension WorkerMessage {
    /// The `epoch` line of one epoch's figures and the `progress` line that follows it.
    static func epochLines(_ record: EpochRecord, of epochs: Int) -> [WorkerMessage] {
        [
            WorkerMessage(
                event: "epoch", done: record.epoch, total: epochs,
                values: [
                    "train_loss": record.trainLoss, "train_accuracy": record.trainAccuracy, "val_loss": record.validationLoss,
                    "val_accuracy": record.validationAccuracy, "learning_rate": record.learningRate,
                ]),
            WorkerMessage(event: "progress", done: record.epoch, total: epochs),
        ]
    }
}
