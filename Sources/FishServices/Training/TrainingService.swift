import Dispatch
import FishImaging
import FishNeural
import FishStore
import Foundation

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

    /// Runs `spec` to completion on the calling thread, reporting through `events`; stops with
    /// `ServiceError.cancelled` soon after `cancellation` is set (the run is then KILLED).
    public func train(_ spec: TrainingSpec, cancellation: CancellationFlag = CancellationFlag(),
                      events: @escaping @Sendable (TrainingEvent) -> Void = { _ in }) throws -> TrainingReport {
        if let problem = spec.problem { throw ServiceError.invalidArgument(problem) }
        let backbone = try ClassificationService(context: context).loadModel(name: spec.backbone)
        guard backbone.head == nil else {
            throw ServiceError.invalidArgument("\(spec.backbone) is a trained head, not a backbone; train on \(FishConfig.baseModelName)")
        }
        var clock = StageClock()
        let isCancelled = { cancellation.isCancelled }

        events(.stage(.scan))
        let scanner = DatasetScanner(maxPixels: config.maxPixels, threads: config.threads)
        let scanned = try scanner.scan(data: URL(fileURLWithPath: spec.data), manifest: spec.manifest.map(URL.init(fileURLWithPath:)),
                                       progress: { events(.progress(.scan, done: $0, total: $1)) }, isCancelled: isCancelled)
        let dataset = PreparedDataset(images: scanned.images, unreadable: scanned.unreadable,
                                      nearDuplicateDistance: spec.nearDuplicateDistance)
        events(.checked(dataset.check))
        guard dataset.classNames.count >= 2 else {
            throw ServiceError.invalidArgument("\(spec.data): training needs at least 2 classes with readable images, found \(dataset.classNames.count)")
        }
        clock.lap("scan")

        events(.stage(.split))
        let split = DatasetSplit(dataset, seed: spec.seed, validationFraction: spec.validationFraction, testFraction: spec.testFraction)
        guard !split.indices(.validation).isEmpty, !split.indices(.test).isEmpty else {
            throw ServiceError.invalidArgument("\(spec.data): too few distinct images per class to hold out validation and test images")
        }
        let fingerprint = ModelPackage.sha256(Data(dataset.images.map { "\($0.sha256) \($0.label)" }.sorted().joined(separator: "\n").utf8))
        let run = try store.startRun(experiment: spec.experiment, runName: "train-\(spec.model)", datasetFingerprint: fingerprint,
                                     user: context.actor.user, host: context.actor.host)
        events(.started(runId: run.id))
        var job = TrainingJob(context: context, spec: spec, run: run, dataset: dataset, split: split, backbone: backbone,
                              clock: clock, isCancelled: isCancelled, events: events)
        do {
            let report = try job.execute()
            try store.endRun(run.id, status: .finished)
            return report
        } catch {
            try? store.endRun(run.id, status: cancellation.isCancelled ? .killed : .failed)
            try? store.setTags(run.id, ["error": "\(error)"])
            throw error
        }
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
