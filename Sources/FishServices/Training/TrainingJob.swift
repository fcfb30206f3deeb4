import FishImaging
import FishNeural
import FishStore
import Foundation

/// The stages of one training run after its data is checked and split: features, trials,
/// evaluation, registration; each recorded on the run.
struct TrainingJob {
    let context: ServiceContext
    let spec: TrainingSpec
    let run: Run
    let dataset: PreparedDataset
    let split: DatasetSplit
    let backbone: LoadedModel
    var clock: StageClock
    let isCancelled: () -> Bool
    let events: @Sendable (TrainingEvent) -> Void

    private var store: Store { context.store }

    mutating func execute() throws -> TrainingReport {
        try logSetup()

        events(.stage(.features))
        let extractor = FeatureExtractor(
            backbone: backbone, preprocessing: spec.preprocessing,
            cache: FeatureCache(directory: TrainingService(context: context).featureCacheDirectory,
                                backboneSha256: backbone.metadata.weightsSha256,
                                preprocessing: Self.describe(spec.preprocessing), width: backbone.engine.embeddingWidth),
            maxPixels: context.config.maxPixels, threads: context.config.threads)
        var requests: [(image: DatasetImage, view: Int)] = []
        var requestLabels: [Int] = [], requestParts: [SplitPart] = []
        for (index, image) in dataset.images.enumerated() {
            let views = split.parts[index] == .train ? spec.augmentedViews : 0
            for view in 0...views {
                requests.append((image, view))
                requestLabels.append(dataset.labels[index])
                requestParts.append(split.parts[index])
            }
        }
        var counters = FeatureExtractor.Counters()
        let features = try extractor.features(requests, counters: &counters,
                                              progress: { events(.progress(.features, done: $0, total: $1)) },
                                              isCancelled: isCancelled)
        clock.lap("features")
        let width = backbone.engine.embeddingWidth
        func subset(_ part: SplitPart) -> LabelledFeatures {
            let rows = requestParts.indices.filter { requestParts[$0] == part }
            return LabelledFeatures(features: rows.flatMap { features[($0 * width)..<(($0 + 1) * width)] },
                                    labels: rows.map { requestLabels[$0] }, dimension: width)
        }
        let (train, validation, test) = (subset(.train), subset(.validation), subset(.test))

        events(.stage(.train))
        let trials = try trainTrials(train: train, validation: validation)
        // The most accurate on validation; among equals the lowest validation loss.
        guard let best = trials.indices.min(by: { Self.ranking(trials[$0].summary) < Self.ranking(trials[$1].summary) }) else {
            throw ServiceError.failed("no trial finished")
        }
        clock.lap("train")

        events(.stage(.evaluate))
        let temperature = TemperatureScaling.fit(trials[best].head, validation: validation)
        let head = TemperatureScaling.apply(temperature, to: trials[best].head)
        let logits = head.logits(test.features, count: test.count)
        let probabilities = (0..<test.count).flatMap { row in
            Softmax.probabilities(logits[(row * head.classes)..<((row + 1) * head.classes)])
        }
        let evaluation = ClassificationMetrics(probabilities: probabilities, labels: test.labels, classNames: dataset.classNames)
        let evaluationData = split.testFingerprint(dataset)
        clock.lap("evaluate")

        events(.stage(.register))
        var metrics: [String: Double] = [
            "test_accuracy": evaluation.accuracy, "test_macro_f1": evaluation.macroF1,
            "test_ece": evaluation.expectedCalibrationError,
            "val_loss": trials[best].summary.validationLoss, "val_accuracy": trials[best].summary.validationAccuracy,
            "temperature": temperature,
            "features_computed": Double(counters.computed), "features_cached": Double(counters.cached),
        ]
        if let seconds = clock.seconds["features"], seconds > 0, counters.computed > 0 {
            metrics["feature_images_per_second"] = Double(counters.computed) / seconds
        }
        let version = try register(head: head, evaluation: evaluation, evaluationData: evaluationData)
        clock.lap("register")
        for (stage, seconds) in clock.seconds { metrics["seconds_\(stage)"] = seconds }
        try store.logMetrics(run.id, metrics.sorted { $0.key < $1.key }.map { MetricPoint(key: $0.key, value: $0.value, step: 0) })
        let report = TrainingReport(
            runId: run.id, model: .init(name: spec.model, version: version), metrics: metrics, check: dataset.check,
            split: .init(train: split.indices(.train).count, validation: split.indices(.validation).count,
                         test: split.indices(.test).count),
            evaluationData: evaluationData, evaluation: evaluation, trials: trials.map(\.summary), bestTrial: best,
            features: counters, seconds: clock.seconds)
        _ = try store.logArtifact(run.id, path: "evaluation.json", data: try Self.json(evaluation))
        _ = try store.logArtifact(run.id, path: "trials.json", data: try Self.json(report.trials))
        return report
    }

    /// Parameters, the dataset check and the split sizes, recorded before the long stages.
    private func logSetup() throws {
        var params = [
            "data": spec.data, "seed": "\(spec.seed)", "trials": "\(spec.trials)", "search": spec.search.rawValue,
            "augmented_views": "\(spec.augmentedViews)", "fit": spec.fit.rawValue, "backbone": spec.backbone,
            "backbone_version": "\(backbone.version)", "model": spec.model,
            "validation_fraction": "\(spec.validationFraction)", "test_fraction": "\(spec.testFraction)",
            "near_duplicate_distance": "\(spec.nearDuplicateDistance)", "classes": dataset.classNames.joined(separator: ","),
        ]
        if let manifest = spec.manifest { params["manifest"] = manifest }
        if spec.trials == 1 { params.merge(Self.params(spec.hyperparameters)) { $1 } }
        try store.logParams(run.id, params)
        let check = dataset.check
        try store.logMetrics(run.id, [
            MetricPoint(key: "images_usable", value: Double(check.usableImages), step: 0),
            MetricPoint(key: "images_unreadable", value: Double(check.unreadable.count), step: 0),
            MetricPoint(key: "exact_duplicate_sets", value: Double(check.exactDuplicates.count), step: 0),
            MetricPoint(key: "near_duplicate_sets", value: Double(check.nearDuplicates.count), step: 0),
            MetricPoint(key: "conflicting_label_sets", value: Double(check.conflictingLabels.count), step: 0),
            MetricPoint(key: "images_train", value: Double(split.indices(.train).count), step: 0),
            MetricPoint(key: "images_validation", value: Double(split.indices(.validation).count), step: 0),
            MetricPoint(key: "images_test", value: Double(split.indices(.test).count), step: 0),
        ])
        _ = try store.logArtifact(run.id, path: "dataset_check.json", data: try Self.json(check))
    }

    /// Trains every trial (in parallel when there are several), each as a child run.
    private func trainTrials(train: LabelledFeatures, validation: LabelledFeatures) throws
        -> [(head: ClassifierHead, summary: TrainingReport.TrialSummary)] {
        let settings = spec.trialHyperparameters()
        var children: [Run] = []
        for (trial, hyperparameters) in settings.enumerated() {
            let child = try store.startRun(experiment: spec.experiment, runName: "trial-\(trial)", parent: run.id,
                                           datasetFingerprint: run.datasetFingerprint,
                                           user: context.actor.user, host: context.actor.host)
            try store.logParams(child.id, Self.params(hyperparameters).merging(["trial": "\(trial)", "seed": "\(spec.seed)"]) { $1 })
            children.append(child)
        }
        let outcomes = ResultSlots<(head: ClassifierHead, summary: TrainingReport.TrialSummary)>(count: settings.count)
        let finished = Counter()
        events(.progress(.train, done: 0, total: settings.count))
        let (store, events, isCancelled, classes, seed) = (self.store, self.events, self.isCancelled, dataset.classNames.count, spec.seed)
        nonisolated(unsafe) let cancelled = isCancelled
        Parallel.forEach(settings.count, threads: context.config.threads) { trial in
            let trainer = HeadTrainer(hyperparameters: settings[trial], classes: classes, seed: seed &+ UInt64(trial))
            let child = children[trial]
            var loggingError: (any Error)?
            let (head, epochs) = trainer.train(train, validation: validation) { record in
                events(.epoch(trial: trial, record))
                do {
                    try store.logMetrics(child.id, [
                        MetricPoint(key: "train_loss", value: record.trainLoss, step: record.epoch),
                        MetricPoint(key: "train_accuracy", value: record.trainAccuracy, step: record.epoch),
                        MetricPoint(key: "val_loss", value: record.validationLoss, step: record.epoch),
                        MetricPoint(key: "val_accuracy", value: record.validationAccuracy, step: record.epoch),
                        MetricPoint(key: "learning_rate", value: record.learningRate, step: record.epoch),
                    ])
                } catch {
                    loggingError = error
                }
                return loggingError == nil && !cancelled()
            }
            let (loss, accuracy) = HeadTrainer.evaluate(head, validation)
            let summary = TrainingReport.TrialSummary(trial: trial, runId: child.id, hyperparameters: settings[trial],
                                                      epochs: epochs.count, validationLoss: loss, validationAccuracy: accuracy)
            let status: RunStatus = loggingError != nil ? .failed : cancelled() ? .killed : .finished
            try? store.endRun(child.id, status: status)
            events(.trialFinished(trial: trial, settings[trial], validationLoss: loss, validationAccuracy: accuracy))
            events(.progress(.train, done: finished.add(1), total: settings.count))
            outcomes.set(trial, loggingError.map { .failure($0) } ?? .success((head, summary)))
        }
        if isCancelled() { throw ServiceError.cancelled }
        return try outcomes.values()
    }

    /// Writes the package and registers it with its evaluation and the `staging` alias.
    private func register(head: ClassifierHead, evaluation: ClassificationMetrics, evaluationData: String) throws -> Int {
        let modelMetrics = ["accuracy": evaluation.accuracy, "macro_f1": evaluation.macroF1, "ece": evaluation.expectedCalibrationError]
        let backboneReference = ModelPackage.BackboneReference(model: backbone.name, version: backbone.version,
                                                               weightsSha256: backbone.metadata.weightsSha256)
        let (model, classNames, preprocessing, runId) = (spec.model, dataset.classNames, spec.preprocessing, run.id)
        let version = try store.registerVersion(model: model, sourceRunId: runId, actor: context.actor,
                                                reason: "trained by run \(runId)") { version in
            let relative = "models/\(model)/\(version)"
            let directory = context.config.home.appendingPathComponent(relative)
            try? FileManager.default.removeItem(at: directory)  // left over from a registration that was killed
            var metadata = ModelPackage.Metadata(
                name: model, version: version, architecture: "classifier-head", weightsSha256: "",
                preprocessing: preprocessing, classNames: classNames, createdAt: Date(), source: "training run \(runId)",
                sourceSha256: nil)
            metadata.backbone = backboneReference
            metadata.trainingRunId = runId
            metadata.metrics = modelMetrics
            metadata.evaluationData = evaluationData
            let package = try ModelPackage.write(tensors: head.tensors, metadata: metadata, to: directory)
            return (package.metadata.weightsSha256, relative)
        }
        try store.addEvaluation(model: model, version: version.version, evaluationData: evaluationData, metrics: modelMetrics)
        _ = try store.moveAlias(model: model, alias: "staging", to: version.version, expected: .unchecked, action: .promote,
                                actor: context.actor, reason: "trained by run \(runId)")
        return version.version
    }

    private static func ranking(_ trial: TrainingReport.TrialSummary) -> (Double, Double) {
        (-trial.validationAccuracy, trial.validationLoss)
    }

    private static func params(_ settings: HeadHyperparameters) -> [String: String] {
        ["learning_rate": "\(settings.learningRate)", "weight_decay": "\(settings.weightDecay)",
         "label_smoothing": "\(settings.labelSmoothing)", "hidden": "\(settings.hidden)", "epochs": "\(settings.epochs)",
         "batch_size": "\(settings.batchSize)", "patience": "\(settings.patience)", "class_balanced": "\(settings.classBalanced)"]
    }

    /// A stable text form of the preprocessing, for cache keys.
    static func describe(_ preprocessing: Preprocessing) -> String {
        String(decoding: (try? json(preprocessing)) ?? Data(), as: UTF8.self)
    }

    static func json(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try encoder.encode(value)
    }
}
