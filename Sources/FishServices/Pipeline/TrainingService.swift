import Dispatch
import FishCluster
import FishImaging
import FishNeural
import FishStore
public import Foundation

/// Trains a fish classifier on the frozen backbone: scan and check the data, split it, extract
/// (cached) features, train head trials in parallel, evaluate the best on the test split, and
/// register it as a new version with the `staging` alias. Everything is recorded in the store.
public struct TrainingService: Sendable {
    private let context: ServiceContext
    private var config: FishConfig { context.config }
    private var store: Store { context.store }

    public init(context: ServiceContext) {
        self.context = context
    }

    /// Where cached features live.
    public var featureCacheDirectory: URL { config.home.appendingPathComponent("cache/features") }

    /// Runs `spec` to completion as a persisted pipeline, reporting through `events`; stops with
    /// `ServiceError.cancelled` soon after `cancellation` is set (the run is then KILLED).
    public func train(
        _ spec: TrainingSpec, cancellation: CancellationFlag = CancellationFlag(),
        events: @escaping @Sendable (TrainingEvent) -> Void = { _ in }
    ) throws -> TrainingReport {
        if let problem = spec.problem { throw ServiceError.invalidArgument(problem) }
        let (backbone, package) = try loadBackbone(spec.backbone, version: nil)
        if let problem = spec.finetune?.problem(blocks: backbone.engine.architecture.blocks.count) {
            throw ServiceError.invalidArgument("\(problem) for \(spec.backbone) (\(backbone.engine.architecture.name))")
        }
        var clock = StageClock()
        let prepared = try prepare(spec, backbone: backbone, events: events, isCancelled: { cancellation.isCancelled })
        clock.lap("scan")
        let run = try store.startRun(
            experiment: spec.experiment, runName: "train-\(spec.model)", datasetFingerprint: prepared.fingerprint,
            user: context.actor.user, host: context.actor.host)
        try store.createPipeline(
            runId: run.id, kind: "train", spec: String(decoding: try JSONEncoder().encode(spec), as: UTF8.self),
            backend: spec.cluster.backend.rawValue, stages: PipelineStageName.allCases.map(\.rawValue))
        events(.started(runId: run.id))
        return try coordinating(run.id) {
            try execute(
                TrainingJob(
                    context: context, spec: spec, run: run, dataset: prepared.dataset, split: prepared.split,
                    backbone: backbone, backbonePackage: package, clock: clock,
                    isCancelled: { cancellation.isCancelled }, events: events), cancellation: cancellation)
        }
    }

    /// Runs `body` as the one coordinator of `runId`: a lock file in `pipelines/` is held while it
    /// runs (and released by the system if the process dies), so a resume while the coordinator
    /// lives is refused instead of running its trials twice.
    private func coordinating<T>(_ runId: String, _ body: () throws -> T) throws -> T {
        let lock = context.coordinatorLock(runId)
        try FileManager.default.createDirectory(at: lock.deletingLastPathComponent(), withIntermediateDirectories: true)
        guard let result = try FileLock.ifFree(lock, body) else {
            throw ServiceError.invalidArgument(
                "run \(runId) is still being run by a live coordinator process; stop it (Ctrl-C or kill) before resuming")
        }
        return result
    }

    /// Continues the pipeline of `runId` after its coordinator died or was stopped: finished
    /// stages and completed worker tasks are kept, the rest run (on `backend` when given).
    public func resume(
        runId reference: String, backend: ClusterOptions.Backend? = nil, cancellation: CancellationFlag = CancellationFlag(),
        events: @escaping @Sendable (TrainingEvent) -> Void = { _ in }
    ) throws -> TrainingReport {
        let run = try store.run(reference).run
        return try coordinating(run.id) {
            try resumeCoordinated(runId: run.id, backend: backend, cancellation: cancellation, events: events)
        }
    }

    private func resumeCoordinated(
        runId: String, backend: ClusterOptions.Backend?, cancellation: CancellationFlag,
        events: @escaping @Sendable (TrainingEvent) -> Void
    ) throws -> TrainingReport {
        let detail = try store.run(runId)
        let run = detail.run
        guard let pipeline = try store.pipeline(runId: run.id) else {
            throw ServiceError.invalidArgument("run \(run.id) is not a pipeline run; only `fishops train` runs can be resumed")
        }
        guard run.status != .finished else {
            throw ServiceError.invalidArgument("run \(run.id) already finished; nothing to resume")
        }
        var spec = try JSONDecoder().decode(TrainingSpec.self, from: Data(pipeline.spec.utf8))
        if let backend {
            spec.cluster.backend = backend
            try store.setPipelineBackend(runId: run.id, backend: backend.rawValue)
        }
        let (backbone, package) = try loadBackbone(spec.backbone, version: detail.params["backbone_version"].flatMap { Int($0) })
        var clock = StageClock()
        let prepared = try prepare(spec, backbone: backbone, events: events, isCancelled: { cancellation.isCancelled })
        guard prepared.fingerprint == run.datasetFingerprint else {
            throw ServiceError.invalidArgument(
                "\(spec.data) changed since run \(run.id) started; start a new run with `fishops train`")
        }
        clock.lap("scan")
        try store.reopenRun(run.id)
        events(.started(runId: run.id))
        return try execute(
            TrainingJob(
                context: context, spec: spec, run: run, dataset: prepared.dataset, split: prepared.split,
                backbone: backbone, backbonePackage: package, clock: clock,
                isCancelled: { cancellation.isCancelled }, events: events), cancellation: cancellation)
    }

    private func execute(_ job: TrainingJob, cancellation: CancellationFlag) throws -> TrainingReport {
        var job = job
        do {
            let report = try job.execute()
            try store.endRun(job.run.id, status: .finished)
            var payload: [String: any Sendable] = [
                "run_id": job.run.id, "run_name": job.run.name, "model": report.model.name, "version": report.model.version,
            ]
            for key in ["test_accuracy", "test_macro_f1"] { payload[key] = report.metrics[key] }
            HookService(context: context).raise(.trainingFinished, payload: payload)
            return report
        } catch {
            let cancelled = cancellation.isCancelled || error as? ClusterError == .cancelled
            try? store.endRun(job.run.id, status: cancelled ? .killed : .failed)
            try? store.setTags(job.run.id, ["error": "\(error)"])
            HookService(context: context).raise(
                .trainingFailed,
                payload: [
                    "run_id": job.run.id, "run_name": job.run.name, "status": cancelled ? "KILLED" : "FAILED",
                    "error": "\(error)",
                ])
            throw cancelled ? ServiceError.cancelled : error
        }
    }

    /// The registered backbone (at `version`, default its current one) and its package folder.
    private func loadBackbone(_ name: String, version: Int?) throws -> (LoadedModel, URL) {
        if let member = EfficientNetLite.family.first(where: { FishConfig.baseModelName($0) == name }),
            try !store.models().contains(where: { $0.name == name })
        {
            let target = member == .lite0 ? "import" : "weights-" + name.replacingOccurrences(of: "imagenet-", with: "")
            throw ServiceError.invalidArgument(
                "\(name) is not imported yet: run `make \(target)` (or `fishops weights import` on its checkpoint)")
        }
        let resolved = try RegistryService(context: context).resolve(model: name, version: version)
        guard resolved.package.metadata.backbone == nil else {
            throw ServiceError.invalidArgument("\(name) is a trained head, not a backbone; train on \(FishConfig.baseModelName)")
        }
        return (try LoadedModel(package: resolved.package, threads: config.threads), resolved.package.directory)
    }

    /// The validate stage: scan and check the data, group it, split it, and fingerprint it.
    private func prepare(
        _ spec: TrainingSpec, backbone: LoadedModel, events: @Sendable (TrainingEvent) -> Void, isCancelled: () -> Bool
    ) throws -> (dataset: PreparedDataset, split: DatasetSplit, fingerprint: String) {
        events(.stage(.validate))
        let scanner = DatasetScanner(maxPixels: config.maxPixels, threads: config.threads)
        let scanned = try scanner.scan(
            data: URL(fileURLWithPath: spec.data), manifest: spec.manifest.map(URL.init(fileURLWithPath:)),
            progress: { events(.progress(.validate, done: $0, total: $1)) }, isCancelled: isCancelled)
        let images = try spec.groupBy.map { try FileNameGroups($0).grouped(scanned.images) } ?? scanned.images
        let similar =
            try spec.groupSimilar.map {
                try similarPairs(images, threshold: $0, spec: spec, backbone: backbone, isCancelled: isCancelled)
            } ?? []
        var dataset = PreparedDataset(
            images: images, unreadable: scanned.unreadable, nearDuplicateDistance: spec.nearDuplicateDistance,
            similar: similar)
        guard dataset.classNames.count >= 2 else {
            events(.checked(dataset.check))
            throw ServiceError.invalidArgument(
                "\(spec.data): training needs at least 2 classes with readable images, found \(dataset.classNames.count)")
        }
        let split = DatasetSplit(
            dataset, seed: spec.seed, validationFraction: spec.validationFraction, testFraction: spec.testFraction)
        dataset.check.splitWarnings = split.warnings(dataset)
        events(.checked(dataset.check))
        guard !split.indices(.validation).isEmpty, !split.indices(.test).isEmpty else {
            throw ServiceError.invalidArgument(
                "\(spec.data): too few distinct images per class to hold out validation and test images")
        }
        let fingerprint = ModelPackage.sha256(
            Data(dataset.images.map { "\($0.sha256) \($0.label)" }.sorted().joined(separator: "\n").utf8))
        return (dataset, split, fingerprint)
    }
}

extension TrainingService {
    /// Each image paired with its most similar image of its class by backbone embedding, where
    /// the cosine similarity reaches `threshold`. The embeddings go through the feature cache, so
    /// the extract stage reads them back instead of computing them again.
    fileprivate func similarPairs(
        _ images: [DatasetImage], threshold: Double, spec: TrainingSpec, backbone: LoadedModel, isCancelled: () -> Bool
    ) throws -> [(Int, Int)] {
        let extractor = FeatureExtractor(
            backbone: backbone, preprocessing: spec.preprocessing(backbone: backbone.metadata.preprocessing),
            cacheDirectory: featureCacheDirectory,
            maxPixels: config.maxPixels, threads: config.threads)
        var counters = FeatureExtractor.Counters()
        let embeddings = try extractor.features(
            images.map { FeatureRequest(path: $0.path, sha256: $0.sha256, view: 0) }, counters: &counters,
            isCancelled: isCancelled)
        let labels = Dictionary(uniqueKeysWithValues: Set(images.map(\.label)).sorted().enumerated().map { ($1, $0) })
        return SimilarEmbeddings.nearestPairs(
            embeddings: embeddings, dimension: backbone.engine.embeddingWidth,
            labels: images.map { labels[$0.label] ?? 0 }, threshold: Float(threshold))
    }
}

/// Wall time per stage.
struct StageClock {
    private var last = DispatchTime.now()
    private let start = DispatchTime.now()
    private(set) var seconds: [String: Double] = [:]

    /// Records the time since the previous lap as `stage`.
    mutating func lap(_ stage: String) {
        let now = DispatchTime.now()
        seconds[stage] = Double(now.uptimeNanoseconds - last.uptimeNanoseconds) / 1e9
        seconds["total"] = Double(now.uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        last = now
    }
}
