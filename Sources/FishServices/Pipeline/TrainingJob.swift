import FishCluster
import FishImaging
import FishNeural
import FishStore
import Foundation

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
    /// What the features and the package use: the backbone's preprocessing with the spec's fit.
    var preprocessing: Preprocessing { spec.preprocessing(backbone: backbone.metadata.preprocessing) }

    /// The worker tasks of this run's `stage`, run on `runner` and recorded in the store.
    func stageTasks(_ stage: PipelineStageName, runner: TaskRunner) -> StageTasks {
        StageTasks(store: context.store, runId: run.id, stage: stage.rawValue, runner: runner, workDirectory: workDirectory)
    }

    /// Runs the stages in order. After a restart the validate stage is not repeated, worker tasks
    /// whose results exist are not run again, and a version this run registered is reused.
    mutating func execute() throws -> TrainingReport {
        try validate()
        let backend = spec.cluster.makeBackend(
            config: context.config, workDirectory: workDirectory, jobName: "fishops-\(run.id.prefix(8))",
            onMessage: forwardEpochs)
        let runner = TaskRunner(backend: backend, maxAttempts: spec.cluster.maxAttempts)
        let features = try extractFeatures(runner: runner)
        let head = try trainHead(features, runner: runner)
        let fineTuning = try fineTuneNetwork(features, head: head, runner: runner)
        let evaluated = try evaluate(features, head: head, fineTuned: fineTuning?.result)
        let version = try registerVersion(evaluated, features: features)
        let (gate, promoted) = try gateAndPromote(version: version)
        clock.lap("gate")
        let pipeline = TrainingReport.PipelineSummary(
            backend: backend.name, extract: features.figures, trials: head.figures, finetune: fineTuning?.figures,
            gate: gate, promoted: promoted)
        return try report(
            version: version, metrics: metrics(features, head: head, fineTuning: fineTuning, evaluated: evaluated),
            evaluated: evaluated, head: head, features: features, pipeline: pipeline,
            fineTuneEpochs: fineTuning?.result.epochs)
    }

    /// What the extract stage produced: every image view's embedding, with its label and split part.
    private struct Features {
        let requests: [(request: FeatureRequest, label: Int, part: SplitPart)]
        let values: [Float]
        let width: Int
        let counters: FeatureExtractor.Counters
        let figures: StageTasks.Figures

        /// The embeddings and labels of one split part's views.
        func subset(_ part: SplitPart) -> LabelledFeatures {
            let rows = requests.indices.filter { requests[$0].part == part }
            return LabelledFeatures(
                features: rows.flatMap { values[($0 * width)..<(($0 + 1) * width)] },
                labels: rows.map { requests[$0].label }, dimension: width)
        }

        /// The embeddings of the training images themselves (no augmented views).
        var trainOriginals: [Float] {
            requests.indices.filter { requests[$0].part == .train && requests[$0].request.view == 0 }
                .flatMap { values[($0 * width)..<(($0 + 1) * width)] }
        }
    }

    /// What the train stage produced: every trial, and the one kept.
    private struct TrainedHead {
        let trials: [(head: ClassifierHead, summary: TrainingReport.TrialSummary)]
        let figures: StageTasks.Figures
        let best: Int
        var summary: TrainingReport.TrialSummary { trials[best].summary }
    }

    /// What the evaluate stage produced: the model to register and its scores on the test split.
    private struct EvaluatedModel {
        let model: ScoredModel
        let evaluation: ClassificationMetrics
        let evaluationData: String
        let fineTuned: Bool
    }

    /// The validate stage (the data was scanned, checked and split before the job): the run's
    /// parameters and dataset check.
    private func validate() throws {
        let done = Set(try store.stages(runId: run.id).filter { $0.state == .done || $0.state == .skipped }.map(\.stage))
        guard !done.contains(PipelineStageName.validate.rawValue) else { return }
        try logSetup()
        try stage(.validate, .done, "\(dataset.images.count) images, \(dataset.classNames.count) classes")
    }

    /// The extract stage: every image view embedded by the backbone, in sharded worker tasks.
    private mutating func extractFeatures(runner: TaskRunner) throws -> Features {
        events(.stage(.extract))
        try stage(.extract, .running)
        let requests = featureRequests()
        let extraction = try extract(requests, runner: runner)
        let figures = extraction.figures
        try stage(
            .extract, .done, "\(figures.total) shards: \(figures.run) run, \(figures.reused) reused, \(figures.retries) retried")
        clock.lap("features")
        return Features(
            requests: requests, values: extraction.features, width: backbone.engine.embeddingWidth,
            counters: extraction.counters, figures: figures)
    }

    /// The train stage: the head's trials as worker tasks; the most accurate on validation is kept
    /// (among equals the lowest validation loss).
    private mutating func trainHead(_ features: Features, runner: TaskRunner) throws -> TrainedHead {
        events(.stage(.train))
        try stage(.train, .running)
        let (trials, figures) = try trainTrials(
            train: features.subset(.train), validation: features.subset(.validation), runner: runner)
        guard let best = trials.indices.min(by: { Self.ranking(trials[$0].summary) < Self.ranking(trials[$1].summary) }) else {
            throw ServiceError.failed("no trial finished")
        }
        try stage(.train, .done, "\(trials.count) trial(s), best trial \(best)")
        clock.lap("train")
        return TrainedHead(trials: trials, figures: figures, best: best)
    }

    /// The finetune stage, when the spec asks for it (else recorded as skipped).
    private mutating func fineTuneNetwork(_ features: Features, head: TrainedHead, runner: TaskRunner) throws
        -> (result: FineTuneResult, figures: StageTasks.Figures)?
    {
        guard let settings = spec.finetune else {
            try stage(.finetune, .skipped, "not asked (--finetune)")
            return nil
        }
        events(.stage(.finetune))
        try stage(.finetune, .running)
        let fineTuning = try fineTune(settings, headTrial: head.best, requests: features.requests, runner: runner)
        try stage(
            .finetune, .done, "\(fineTuning.result.epochs.count) epoch(s), best epoch \(fineTuning.result.bestEpoch)")
        clock.lap("finetune")
        return fineTuning
    }

    /// The evaluate stage: calibration on validation, then the scores on the test split.
    private mutating func evaluate(_ features: Features, head: TrainedHead, fineTuned: FineTuneResult?) throws
        -> EvaluatedModel
    {
        events(.stage(.evaluate))
        try stage(.evaluate, .running)
        let model =
            try fineTuned.map { try scoreFineTuned($0, requests: features.requests) }
            ?? ScoredModel(
                head: head.trials[head.best].head, validation: features.subset(.validation), test: features.subset(.test))
        let evaluation = ClassificationMetrics(
            probabilities: model.testProbabilities, labels: features.subset(.test).labels, classNames: dataset.classNames)
        try stage(.evaluate, .done, String(format: "test macro-F1 %.4f", evaluation.macroF1))
        clock.lap("evaluate")
        return EvaluatedModel(
            model: model, evaluation: evaluation, evaluationData: split.testFingerprint(dataset), fineTuned: fineTuned != nil)
    }

    /// The register stage: the package written and registered as a new version under `staging`
    /// (or the version this run registered before a restart).
    private mutating func registerVersion(_ evaluated: EvaluatedModel, features: Features) throws -> Int {
        events(.stage(.register))
        try stage(.register, .running)
        // Head-only versions answer from the backbone's embeddings, which the reference samples;
        // a fine-tuned network has embeddings of its own, so it carries none.
        let reference =
            evaluated.fineTuned
            ? nil
            : DriftReference.build(
                embeddings: features.trainOriginals, dimension: features.width,
                testProbabilities: evaluated.model.testProbabilities, classNames: dataset.classNames, seed: spec.seed)
        let version =
            try existingVersion()
            ?? register(
                evaluated.model.package, evaluation: evaluated.evaluation, evaluationData: evaluated.evaluationData,
                driftReference: reference)
        try stage(.register, .done, "\(spec.model) v\(version)")
        clock.lap("register")
        return version
    }

    /// The run's summary metrics: test scores, the kept trial's (or fine-tuned epoch's) validation
    /// figures, feature and task counts, and each stage's seconds.
    private func metrics(
        _ features: Features, head: TrainedHead, fineTuning: (result: FineTuneResult, figures: StageTasks.Figures)?,
        evaluated: EvaluatedModel
    ) -> [String: Double] {
        let (counters, figures, evaluation) = (features.counters, features.figures, evaluated.evaluation)
        var metrics: [String: Double] = [
            "test_accuracy": evaluation.accuracy, "test_macro_f1": evaluation.macroF1,
            "test_ece": evaluation.expectedCalibrationError,
            "val_loss": head.summary.validationLoss, "val_accuracy": head.summary.validationAccuracy,
            "temperature": evaluated.model.temperature,
            "features_computed": Double(counters.computed), "features_cached": Double(counters.cached),
            "shards_total": Double(figures.total), "shards_reused": Double(figures.reused),
            "shards_run": Double(figures.run), "task_retries": Double(figures.retries + head.figures.retries),
        ]
        if let seconds = clock.seconds["features"], seconds > 0, counters.computed > 0, figures.reused == 0 {
            metrics["feature_images_per_second"] = Double(counters.computed) / seconds
        }
        if case let (result, tuningFigures)? = fineTuning,
            let bestEpoch = result.epochs.first(where: { $0.epoch == result.bestEpoch })
        {
            metrics["finetune_epochs"] = Double(result.epochs.count)
            metrics["finetune_best_epoch"] = Double(result.bestEpoch)
            metrics["val_loss"] = bestEpoch.validationLoss
            metrics["val_accuracy"] = bestEpoch.validationAccuracy
            metrics["task_retries", default: 0] += Double(tuningFigures.retries)
        }
        for (stage, seconds) in clock.seconds { metrics["seconds_\(stage)"] = seconds }
        return metrics
    }

    /// The report stage: the summary metrics logged, and the evaluation, trials and report kept as
    /// the run's artifacts.
    private func report(
        version: Int, metrics: [String: Double], evaluated: EvaluatedModel, head: TrainedHead, features: Features,
        pipeline: TrainingReport.PipelineSummary,
        fineTuneEpochs: [EpochRecord]?
    ) throws -> TrainingReport {
        try store.logMetrics(
            run.id, metrics.sorted { $0.key < $1.key }.map { MetricPoint(key: $0.key, value: $0.value, step: 0) })
        let report = TrainingReport(
            runId: run.id, model: .init(name: spec.model, version: version), metrics: metrics, check: dataset.check,
            split: .init(
                train: split.indices(.train).count, validation: split.indices(.validation).count,
                test: split.indices(.test).count),
            evaluationData: evaluated.evaluationData, evaluation: evaluated.evaluation, trials: head.trials.map(\.summary),
            bestTrial: head.best, features: features.counters, seconds: clock.seconds, pipeline: pipeline,
            finetune: fineTuneEpochs)
        _ = try store.logArtifact(run.id, path: "evaluation.json", data: try Self.json(evaluated.evaluation))
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
                requests.append(
                    (
                        FeatureRequest(path: image.path, sha256: image.sha256, view: view), dataset.labels[index],
                        split.parts[index]
                    ))
            }
        }
        return requests
    }

    /// Embeds `requests` in shards of `spec.cluster.shardSize` worker tasks.
    private func extract(_ requests: [(request: FeatureRequest, label: Int, part: SplitPart)], runner: TaskRunner) throws
        -> (features: [Float], counters: FeatureExtractor.Counters, figures: StageTasks.Figures)
    {
        let size = spec.cluster.shardSize
        let tasks = stride(from: 0, to: requests.count, by: size).enumerated().map { shard, start in
            let slice = requests[start..<min(start + size, requests.count)]
            return WorkerTask(
                id: String(format: "extract-%05d", shard), kind: .extract,
                result: workDirectory.appendingPathComponent(String(format: "results/extract-%05d.feat", shard)).path,
                extract: .init(
                    backbonePackage: backbonePackage.path, preprocessing: preprocessing,
                    featureCache: TrainingService(context: context).featureCacheDirectory.path,
                    maxPixels: context.config.maxPixels, images: slice.map(\.request), labels: slice.map(\.label)))
        }
        let events = self.events
        let figures = try stageTasks(.extract, runner: runner).run(
            tasks, isCancelled: isCancelled,
            progress: { statuses in
                let done = tasks.reduce(0) { total, task in
                    let status = statuses[task.id]
                    let size = task.extract?.images.count ?? 0
                    return total + (status?.state == .completed ? size : min(status?.done ?? 0, size))
                }
                events(.progress(.extract, done: done, total: requests.count))
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
        events(.progress(.extract, done: requests.count, total: requests.count))
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
        if let groupBy = spec.groupBy { params["group_by"] = groupBy }
        if let preset = spec.preset { params["preset"] = preset.rawValue }
        if let groupSimilar = spec.groupSimilar { params["group_similar"] = "\(groupSimilar)" }
        if spec.trials == 1 { params.merge(Self.params(spec.hyperparameters)) { $1 } }
        try store.logParams(run.id, params)
        let check = dataset.check
        try store.logMetrics(
            run.id,
            [
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
        -> (trials: [(head: ClassifierHead, summary: TrainingReport.TrialSummary)], figures: StageTasks.Figures)
    {
        let settings = spec.trialHyperparameters()
        let data = workDirectory.appendingPathComponent("data")
        let (trainFile, validationFile) = (
            data.appendingPathComponent("train.feat"), data.appendingPathComponent("validation.feat")
        )
        try FeatureFile.write(train, to: trainFile)
        try FeatureFile.write(validation, to: validationFile)
        let existing = Dictionary(try store.childRuns(of: run.id).map { ($0.name, $0) }) { first, _ in first }
        var children: [Run] = []
        for (trial, hyperparameters) in settings.enumerated() {
            if let child = existing["trial-\(trial)"] {
                children.append(child)
                continue
            }
            let child = try store.startRun(
                experiment: spec.experiment, runName: "trial-\(trial)", parent: run.id,
                datasetFingerprint: run.datasetFingerprint,
                user: context.actor.user, host: context.actor.host)
            try store.logParams(
                child.id, Self.params(hyperparameters).merging(["trial": "\(trial)", "seed": "\(spec.seed)"]) { $1 })
            children.append(child)
        }
        let tasks = settings.enumerated().map { trial, hyperparameters in
            WorkerTask(
                id: String(format: "trial-%03d", trial), kind: .trial,
                result: workDirectory.appendingPathComponent(String(format: "results/trial-%03d.safetensors", trial)).path,
                trial: .init(
                    train: trainFile.path, validation: validationFile.path, hyperparameters: hyperparameters,
                    classes: dataset.classNames.count, seed: spec.seed &+ UInt64(trial)))
        }
        events(.progress(.train, done: 0, total: settings.count))
        var finishedCount = 0
        let figures = try stageTasks(.train, runner: runner).run(
            tasks, isCancelled: isCancelled,
            finished: { task in
                guard let trial = tasks.firstIndex(of: task) else { return }
                let result = try TrialResult.read(URL(fileURLWithPath: task.result))
                try store.logMetrics(children[trial].id, result.epochs.flatMap { $0.metricPoints() })
                try store.endRun(children[trial].id, status: .finished)
                finishedCount += 1
                events(
                    .trialFinished(
                        trial: trial, settings[trial], validationLoss: result.validationLoss,
                        validationAccuracy: result.validationAccuracy))
                events(.progress(.train, done: finishedCount, total: settings.count))
            })
        let trials = try tasks.enumerated().map { trial, task in
            let result = try TrialResult.read(URL(fileURLWithPath: task.result))
            return (
                result.head,
                TrainingReport.TrialSummary(
                    trial: trial, runId: children[trial].id, hyperparameters: settings[trial], epochs: result.epochs.count,
                    validationLoss: result.validationLoss, validationAccuracy: result.validationAccuracy)
            )
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
    private func register(
        _ contents: ScoredModel.Package, evaluation: ClassificationMetrics, evaluationData: String,
        driftReference: DriftReference?
    ) throws -> Int {
        let modelMetrics = [
            "accuracy": evaluation.accuracy, "macro_f1": evaluation.macroF1, "ece": evaluation.expectedCalibrationError,
        ]
        let backboneReference = ModelPackage.BackboneReference(
            model: backbone.name, version: backbone.version,
            weightsSha256: backbone.metadata.weightsSha256)
        let fineTuned = contents.architecture != "classifier-head"
        let (model, classNames, preprocessing, runId) = (spec.model, dataset.classNames, self.preprocessing, run.id)
        let version = try store.registerVersion(
            model: model, sourceRunId: runId, actor: context.actor,
            reason: "trained by run \(runId)"
        ) { version in
            let relative = PackageFolders.relativePath(model: model, version: version)
            let directory = context.packageDirectory(relative)
            try PackageFolders.makeRoom(at: directory)
            var metadata = ModelPackage.Metadata(
                name: model, version: version, architecture: contents.architecture, weightsSha256: "",
                preprocessing: preprocessing, classNames: classNames, createdAt: Date(),
                source: fineTuned
                    ? "training run \(runId), fine-tuned from \(backboneReference.model) v\(backboneReference.version)"
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
        _ = try store.moveAlias(
            model: model, alias: "staging", to: version.version, expected: .unchecked, action: .promote,
            actor: context.actor, reason: "trained by run \(runId)")
        return version.version
    }

    private static func ranking(_ trial: TrainingReport.TrialSummary) -> (Double, Double) {
        (-trial.validationAccuracy, trial.validationLoss)
    }

    private static func params(_ settings: HeadHyperparameters) -> [String: String] {
        [
            "learning_rate": "\(settings.learningRate)", "weight_decay": "\(settings.weightDecay)",
            "label_smoothing": "\(settings.labelSmoothing)", "hidden": "\(settings.hidden)", "epochs": "\(settings.epochs)",
            "batch_size": "\(settings.batchSize)", "patience": "\(settings.patience)",
            "class_balanced": "\(settings.classBalanced)",
        ]
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
