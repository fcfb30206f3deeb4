import FishCluster
import FishImaging
import FishNeural
import FishStore
import Foundation

/// The persisted stages of a training pipeline, in order.
public enum PipelineStageName: String, Sendable, Codable, CaseIterable {
    case validate, extract, train, finetune, evaluate, register, gate, promote, report
}

/// The stages of one training run after its data is checked and split: features (sharded worker
/// tasks), trials (worker tasks), evaluation, registration, gate, promotion and report. Each
/// stage's state is kept in the store, so a new coordinator continues where a dead one stopped.
struct TrainingJob {
    let context: ServiceContext
    let spec: TrainingSpec
    let run: Run
    let dataset: PreparedDataset
    let split: DatasetSplit
    let backbone: LoadedModel
    /// The backbone's package folder (what extraction workers load).
    let backbonePackage: URL
    var clock: StageClock
    let isCancelled: () -> Bool
    let events: @Sendable (TrainingEvent) -> Void

    private var store: Store { context.store }
    /// Task files, results and logs of this run: `work/<run id>/` under the FishOps home.
    var workDirectory: URL { context.config.home.appendingPathComponent("work/\(run.id)") }

    mutating func execute() throws -> TrainingReport {
        let done = Set(try store.stages(runId: run.id).filter { $0.state == .done || $0.state == .skipped }.map(\.stage))
        if !done.contains(PipelineStageName.validate.rawValue) {
            try logSetup()
            try stage(.validate, .done, "\(dataset.images.count) images, \(dataset.classNames.count) classes")
        }
        let backend = spec.cluster.makeBackend(config: context.config, workDirectory: workDirectory, jobName: "fishops-\(run.id.prefix(8))",
                                               onMessage: forwardEpochs)
        let runner = TaskRunner(backend: backend, maxAttempts: spec.cluster.maxAttempts)

        events(.stage(.features))
        try stage(.extract, .running)
        let (width, requests) = (backbone.engine.embeddingWidth, featureRequests())
        let extraction = try extract(requests, runner: runner)
        try stage(.extract, .done, "\(extraction.figures.total) shards: \(extraction.figures.run) run, \(extraction.figures.reused) reused, \(extraction.figures.retries) retried")
        clock.lap("features")
        func subset(_ part: SplitPart) -> LabelledFeatures {
            let rows = requests.indices.filter { requests[$0].part == part }
            return LabelledFeatures(features: rows.flatMap { extraction.features[($0 * width)..<(($0 + 1) * width)] },
                                    labels: rows.map { requests[$0].label }, dimension: width)
        }
        let (train, validation, test) = (subset(.train), subset(.validation), subset(.test))

        events(.stage(.train))
        try stage(.train, .running)
        let (trials, trialFigures) = try trainTrials(train: train, validation: validation, runner: runner)
        // The most accurate on validation; among equals the lowest validation loss.
        guard let best = trials.indices.min(by: { Self.ranking(trials[$0].summary) < Self.ranking(trials[$1].summary) }) else {
            throw ServiceError.failed("no trial finished")
        }
        try stage(.train, .done, "\(trials.count) trial(s), best trial \(best)")
        clock.lap("train")

        var fineTuning: (result: FineTuneResult, figures: StageTasks.Figures)?
        if let settings = spec.finetune {
            events(.stage(.finetune))
            try stage(.finetune, .running)
            fineTuning = try fineTune(settings, headTrial: best, requests: requests, runner: runner)
            let result = fineTuning?.result
            try stage(.finetune, .done, "\(result?.epochs.count ?? 0) epoch(s), best epoch \(result?.bestEpoch ?? 0)")
            clock.lap("finetune")
        } else {
            try stage(.finetune, .skipped, "not asked (--finetune)")
        }

        events(.stage(.evaluate))
        try stage(.evaluate, .running)
        let model: ScoredModel
        if let result = fineTuning?.result {
            model = try scoreFineTuned(result, requests: requests)
        } else {
            model = ScoredModel(head: trials[best].head, validation: validation, test: test)
        }
        let (temperature, probabilities) = (model.temperature, model.testProbabilities)
        let evaluation = ClassificationMetrics(probabilities: probabilities, labels: test.labels, classNames: dataset.classNames)
        let evaluationData = split.testFingerprint(dataset)
        try stage(.evaluate, .done, String(format: "test macro-F1 %.4f", evaluation.macroF1))
        clock.lap("evaluate")

        events(.stage(.register))
        try stage(.register, .running)
        let counters = extraction.counters
        var metrics: [String: Double] = [
            "test_accuracy": evaluation.accuracy, "test_macro_f1": evaluation.macroF1,
            "test_ece": evaluation.expectedCalibrationError,
            "val_loss": trials[best].summary.validationLoss, "val_accuracy": trials[best].summary.validationAccuracy,
            "temperature": temperature,
            "features_computed": Double(counters.computed), "features_cached": Double(counters.cached),
        ]
        let figures = extraction.figures
        metrics["shards_total"] = Double(figures.total)
        metrics["shards_reused"] = Double(figures.reused)
        metrics["shards_run"] = Double(figures.run)
        metrics["task_retries"] = Double(figures.retries + trialFigures.retries)
        if let seconds = clock.seconds["features"], seconds > 0, counters.computed > 0, extraction.figures.reused == 0 {
            metrics["feature_images_per_second"] = Double(counters.computed) / seconds
        }
        if let result = fineTuning?.result, let bestEpoch = result.epochs.first(where: { $0.epoch == result.bestEpoch }) {
            metrics["finetune_epochs"] = Double(result.epochs.count)
            metrics["finetune_best_epoch"] = Double(result.bestEpoch)
            metrics["val_loss"] = bestEpoch.validationLoss
            metrics["val_accuracy"] = bestEpoch.validationAccuracy
            metrics["task_retries", default: 0] += Double(fineTuning?.figures.retries ?? 0)
        }
        // Head-only versions answer from the backbone's embeddings, which the reference samples;
        // a fine-tuned network has embeddings of its own, so it carries none.
        let trainOriginals = requests.indices.filter { requests[$0].part == .train && requests[$0].request.view == 0 }
        let reference = fineTuning == nil ? DriftReference.build(
            embeddings: trainOriginals.flatMap { extraction.features[($0 * width)..<(($0 + 1) * width)] }, dimension: width,
            testProbabilities: probabilities, classNames: dataset.classNames, seed: spec.seed) : nil
        let version = try existingVersion() ?? register(model.package, evaluation: evaluation, evaluationData: evaluationData,
                                                        driftReference: reference)
        try stage(.register, .done, "\(spec.model) v\(version)")
        clock.lap("register")

        let (gate, promoted) = try gateAndPromote(version: version)
        clock.lap("gate")

        for (stage, seconds) in clock.seconds { metrics["seconds_\(stage)"] = seconds }
        try store.logMetrics(run.id, metrics.sorted { $0.key < $1.key }.map { MetricPoint(key: $0.key, value: $0.value, step: 0) })
        let report = TrainingReport(
            runId: run.id, model: .init(name: spec.model, version: version), metrics: metrics, check: dataset.check,
            split: .init(train: split.indices(.train).count, validation: split.indices(.validation).count,
                         test: split.indices(.test).count),
            evaluationData: evaluationData, evaluation: evaluation, trials: trials.map(\.summary), bestTrial: best,
            features: counters, seconds: clock.seconds,
            pipeline: .init(backend: backend.name, extract: extraction.figures, trials: trialFigures, finetune: fineTuning?.figures,
                            gate: gate, promoted: promoted),
            finetune: fineTuning?.result.epochs)
        _ = try store.logArtifact(run.id, path: "evaluation.json", data: try Self.json(evaluation))
        _ = try store.logArtifact(run.id, path: "trials.json", data: try Self.json(report.trials))
        _ = try store.logArtifact(run.id, path: "report.json", data: try Self.json(report))
        try stage(.report, .done, "report.json")
        return report
    }

    /// Records a stage's state.
    func stage(_ name: PipelineStageName, _ state: StageState, _ detail: String = "") throws {
        try store.setStage(runId: run.id, stage: name.rawValue, state: state, detail: detail)
    }

    /// Every image view to embed: each image, plus augmented views of training images.
    private func featureRequests() -> [(request: FeatureRequest, label: Int, part: SplitPart)] {
        var requests: [(request: FeatureRequest, label: Int, part: SplitPart)] = []
        for (index, image) in dataset.images.enumerated() {
            let views = split.parts[index] == .train ? spec.augmentedViews : 0
            for view in 0...views {
                requests.append((FeatureRequest(path: image.path, sha256: image.sha256, view: view), dataset.labels[index], split.parts[index]))
            }
        }
        return requests
    }

    /// Embeds `requests` in shards of `spec.cluster.shardSize` worker tasks.
    private func extract(_ requests: [(request: FeatureRequest, label: Int, part: SplitPart)], runner: TaskRunner) throws
        -> (features: [Float], counters: FeatureExtractor.Counters, figures: StageTasks.Figures) {
        let size = spec.cluster.shardSize
        let tasks = stride(from: 0, to: requests.count, by: size).enumerated().map { shard, start in
            let slice = requests[start..<min(start + size, requests.count)]
            return WorkerTask(
                id: String(format: "extract-%05d", shard), kind: .extract,
                result: workDirectory.appendingPathComponent(String(format: "results/extract-%05d.feat", shard)).path,
                extract: .init(backbonePackage: backbonePackage.path, preprocessing: spec.preprocessing,
                               featureCache: TrainingService(context: context).featureCacheDirectory.path,
                               maxPixels: context.config.maxPixels, images: slice.map(\.request), labels: slice.map(\.label)))
        }
        let events = self.events
        let figures = try StageTasks(store: store, runId: run.id, stage: PipelineStageName.extract.rawValue, runner: runner,
                                     workDirectory: workDirectory)
            .run(tasks, isCancelled: isCancelled, progress: { statuses in
                let done = tasks.reduce(0) { total, task in
                    let status = statuses[task.id]
                    let size = task.extract?.images.count ?? 0
                    return total + (status?.state == .completed ? size : min(status?.done ?? 0, size))
                }
                events(.progress(.features, done: done, total: requests.count))
            })
        var features: [Float] = []
        features.reserveCapacity(requests.count * backbone.engine.embeddingWidth)
        var counters = FeatureExtractor.Counters()
        for task in tasks {
            let (shard, shardCounters) = try FeatureFile.read(URL(fileURLWithPath: task.result))
            guard shard.count == task.extract?.images.count, shard.dimension == backbone.engine.embeddingWidth else {
                throw ServiceError.failed("\(task.result): the shard result does not match its task")
            }
            features += shard.features
            counters.computed += shardCounters.computed
            counters.cached += shardCounters.cached
        }
        events(.progress(.features, done: requests.count, total: requests.count))
        return (features, counters, figures)
    }

    /// Live epoch figures of trial and fine-tuning workers, for the progress views.
    private var forwardEpochs: @Sendable (String, WorkerMessage) -> Void {
        let events = self.events
        return { id, message in
            guard message.event == "epoch", let epoch = message.done, let values = message.values else { return }
            let record = EpochRecord(
                epoch: epoch, trainLoss: values["train_loss"] ?? .nan, trainAccuracy: values["train_accuracy"] ?? .nan,
                validationLoss: values["val_loss"] ?? .nan, validationAccuracy: values["val_accuracy"] ?? .nan,
                learningRate: values["learning_rate"] ?? .nan)
            if id.hasPrefix("finetune-") {
                events(.fineTuneEpoch(record))
            } else if id.hasPrefix("trial-"), let trial = Int(id.dropFirst(6)) {
                events(.epoch(trial: trial, record))
            }
        }
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

    /// Trains every trial as a worker task, each recorded as a child run (created once, reused by
    /// a resumed coordinator); epochs are logged on the child when its task completes.
    private func trainTrials(train: LabelledFeatures, validation: LabelledFeatures, runner: TaskRunner) throws
        -> (trials: [(head: ClassifierHead, summary: TrainingReport.TrialSummary)], figures: StageTasks.Figures) {
        let settings = spec.trialHyperparameters()
        let data = workDirectory.appendingPathComponent("data")
        let (trainFile, validationFile) = (data.appendingPathComponent("train.feat"), data.appendingPathComponent("validation.feat"))
        try FeatureFile.write(train, to: trainFile)
        try FeatureFile.write(validation, to: validationFile)
        let existing = Dictionary(try store.childRuns(of: run.id).map { ($0.name, $0) }) { first, _ in first }
        var children: [Run] = []
        for (trial, hyperparameters) in settings.enumerated() {
            if let child = existing["trial-\(trial)"] {
                children.append(child)
                continue
            }
            let child = try store.startRun(experiment: spec.experiment, runName: "trial-\(trial)", parent: run.id,
                                           datasetFingerprint: run.datasetFingerprint,
                                           user: context.actor.user, host: context.actor.host)
            try store.logParams(child.id, Self.params(hyperparameters).merging(["trial": "\(trial)", "seed": "\(spec.seed)"]) { $1 })
            children.append(child)
        }
        let tasks = settings.enumerated().map { trial, hyperparameters in
            WorkerTask(id: String(format: "trial-%03d", trial), kind: .trial,
                       result: workDirectory.appendingPathComponent(String(format: "results/trial-%03d.safetensors", trial)).path,
                       trial: .init(train: trainFile.path, validation: validationFile.path, hyperparameters: hyperparameters,
                                    classes: dataset.classNames.count, seed: spec.seed &+ UInt64(trial)))
        }
        events(.progress(.train, done: 0, total: settings.count))
        var finishedCount = 0
        let figures = try StageTasks(store: store, runId: run.id, stage: PipelineStageName.train.rawValue, runner: runner,
                                     workDirectory: workDirectory)
            .run(tasks, isCancelled: isCancelled, finished: { task in
                guard let trial = tasks.firstIndex(of: task) else { return }
                let result = try TrialResult.read(URL(fileURLWithPath: task.result))
                try store.logMetrics(children[trial].id, result.epochs.flatMap { record in [
                    MetricPoint(key: "train_loss", value: record.trainLoss, step: record.epoch),
                    MetricPoint(key: "train_accuracy", value: record.trainAccuracy, step: record.epoch),
                    MetricPoint(key: "val_loss", value: record.validationLoss, step: record.epoch),
                    MetricPoint(key: "val_accuracy", value: record.validationAccuracy, step: record.epoch),
                    MetricPoint(key: "learning_rate", value: record.learningRate, step: record.epoch),
                ] })
                try store.endRun(children[trial].id, status: .finished)
                finishedCount += 1
                events(.trialFinished(trial: trial, settings[trial], validationLoss: result.validationLoss,
                                      validationAccuracy: result.validationAccuracy))
                events(.progress(.train, done: finishedCount, total: settings.count))
            })
        let trials = try tasks.enumerated().map { trial, task in
            let result = try TrialResult.read(URL(fileURLWithPath: task.result))
            return (result.head, TrainingReport.TrialSummary(
                trial: trial, runId: children[trial].id, hyperparameters: settings[trial], epochs: result.epochs.count,
                validationLoss: result.validationLoss, validationAccuracy: result.validationAccuracy))
        }
        return (trials, figures)
    }

    /// The version an earlier coordinator of this run registered, if any.
    private func existingVersion() throws -> Int? {
        guard try store.models().contains(where: { $0.name == spec.model }) else { return nil }
        return try store.versions(model: spec.model).first { $0.sourceRunId == run.id }?.version
    }

    /// The gate's verdict on the new version, and `production` moved to it when
    /// `spec.promoteIfBetter` is set and the gate passes.
    private func gateAndPromote(version: Int) throws -> (RegistryService.GateResult, Bool) {
        let registry = RegistryService(context: context)
        if try store.aliases(model: spec.model)["production"] == version {  // promoted before the coordinator died
            try stage(.promote, .done, "production → v\(version)")
            return (try registry.gate(model: spec.model, version: version), true)
        }
        try stage(.gate, .running)
        let verdict = try registry.gate(model: spec.model, version: version)
        try stage(.gate, .done, (verdict.passed ? "passed: " : "refused: ") + verdict.explanation)
        guard spec.promoteIfBetter else {
            try stage(.promote, .skipped, "not asked (--promote-if-better)")
            return (verdict, false)
        }
        guard verdict.passed else {
            try stage(.promote, .skipped, "the gate refused: \(verdict.explanation)")
            return (verdict, false)
        }
        _ = try registry.promote(model: spec.model, version: version, reason: "pipeline run \(run.id): \(verdict.explanation)")
        try stage(.promote, .done, "production → v\(version)")
        return (verdict, true)
    }

    /// Writes the package and registers it with its evaluation and the `staging` alias.
    private func register(_ contents: ScoredModel.Package, evaluation: ClassificationMetrics, evaluationData: String,
                          driftReference: DriftReference?) throws -> Int {
        let modelMetrics = ["accuracy": evaluation.accuracy, "macro_f1": evaluation.macroF1, "ece": evaluation.expectedCalibrationError]
        let backboneReference = ModelPackage.BackboneReference(model: backbone.name, version: backbone.version,
                                                               weightsSha256: backbone.metadata.weightsSha256)
        let fineTuned = contents.architecture != "classifier-head"
        let (model, classNames, preprocessing, runId) = (spec.model, dataset.classNames, spec.preprocessing, run.id)
        let version = try store.registerVersion(model: model, sourceRunId: runId, actor: context.actor,
                                                reason: "trained by run \(runId)") { version in
            let relative = PackageFolders.relativePath(model: model, version: version)
            let directory = context.packageDirectory(relative)
            try PackageFolders.makeRoom(at: directory)
            var metadata = ModelPackage.Metadata(
                name: model, version: version, architecture: contents.architecture, weightsSha256: "",
                preprocessing: preprocessing, classNames: classNames, createdAt: Date(),
                source: fineTuned ? "training run \(runId), fine-tuned from \(backboneReference.model) v\(backboneReference.version)"
                                  : "training run \(runId)",
                sourceSha256: nil)
            metadata.backbone = fineTuned ? nil : backboneReference
            metadata.trainingRunId = runId
            metadata.metrics = modelMetrics
            metadata.evaluationData = evaluationData
            let package = try ModelPackage.write(tensors: contents.tensors, metadata: metadata, to: directory)
            try driftReference?.write(packageDirectory: directory)
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
