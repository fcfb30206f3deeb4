import Dispatch
import FishNeural
public import FishServices
import Foundation

/// Measures fine-tuning on a folder of `<class>/<image>` files: the tail's forward + backward
/// passes at batch 32, the frozen part's input preparation (decode, augment, frozen blocks), and
/// one whole epoch as `fishops train --finetune` runs it (with the input preparation overlapped),
/// plus the peak RSS.
public struct FineTuneBenchmark: Sendable {
    public struct Report: Sendable, Codable {
        public let images: Int
        public let unfreezeFrom: Int
        public let batchSize: Int
        /// Seconds for one batch of the tail's forward + backward pass (all threads).
        public let tailSecondsPerBatch: Double
        public let tailImagesPerSecond: Double
        /// Seconds to prepare one batch's inputs (all threads).
        public let inputSecondsPerBatch: Double
        /// One epoch over `images` (inputs prepared while the previous batch trains).
        public let epochSeconds: Double
        public let epochImagesPerSecond: Double
        /// Seconds per 1,000 images at that rate.
        public let secondsPer1000Images: Double
        public let peakRssMB: Double
    }

    private let context: ServiceContext

    public init(context: ServiceContext) {
        self.context = context
    }

    public func run(data: String, images limit: Int = 1000, unfreezeFrom: Int = 12) throws -> Report {
        let classification = ClassificationService(context: context)
        let files = Array(classification.collectFiles([data]).files.prefix(limit))
        let classNames = Array(Set(files.map { URL(fileURLWithPath: $0).deletingLastPathComponent().lastPathComponent })).sorted()
        guard files.count >= 32, classNames.count >= 2 else {
            throw ServiceError.invalidArgument("\(data): fine-tuning needs at least 32 images in 2 or more class folders")
        }
        let labels = files.map { file in
            classNames.firstIndex(of: URL(fileURLWithPath: file).deletingLastPathComponent().lastPathComponent) ?? 0
        }
        let requests = files.map { FeatureRequest(path: $0, sha256: $0, view: 0) }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fishops-finetune-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var random = SeededRandom(1, 2)
        let width = EfficientNetLite.embeddingSize
        let head = ClassifierHead(
            inputs: width, hidden: 0, classes: classNames.count, inputMean: [Float](repeating: 0, count: width),
            inputScale: [Float](repeating: 1, count: width), random: &random)
        let headFile = scratch.appendingPathComponent("head.safetensors")
        try TrialResult(head: head, epochs: [], validationLoss: 0, validationAccuracy: 0).write(to: headFile)
        var settings = FineTuneSettings()
        settings.unfreezeFrom = unfreezeFrom
        settings.epochs = 1
        settings.warmupEpochs = 0
        let backbone = try RegistryService(context: context).resolve(model: FishConfig.baseModelName).package
        let task = WorkerTask.FineTune(
            backbonePackage: backbone.directory.path, preprocessing: backbone.metadata.preprocessing,
            maxPixels: context.config.maxPixels,
            head: headFile.path, train: requests, trainLabels: labels, validation: Array(requests.prefix(32)),
            validationLabels: Array(labels.prefix(32)), classes: classNames.count, settings: settings, seed: 1,
            checkpoint: scratch.appendingPathComponent("checkpoint.safetensors").path, threads: nil)
        let job = try FineTuneJob(task: task, threads: context.config.threads)

        let batch = Array(requests.prefix(settings.batchSize))
        let (input, inputSeconds) = try Self.timed { try job.inputs(batch, epoch: 1) }
        let batchLabels = Array(labels.prefix(batch.count))
        let threads = context.config.threads
        _ = job.tail.lossAndGradients(
            input, batch: batch.count, side: job.side, labels: batchLabels, smoothing: 0.1, threads: threads)
        let (_, tailSeconds) = Self.timed {
            job.tail.lossAndGradients(
                input, batch: batch.count, side: job.side, labels: batchLabels, smoothing: 0.1, threads: threads)
        }
        let (_, epochSeconds) = try Self.timed {
            try job.run(result: scratch.appendingPathComponent("result.safetensors"), emit: { _ in }, isCancelled: { false })
        }
        return Report(
            images: files.count, unfreezeFrom: unfreezeFrom, batchSize: settings.batchSize, tailSecondsPerBatch: tailSeconds,
            tailImagesPerSecond: Double(batch.count) / tailSeconds, inputSecondsPerBatch: inputSeconds,
            epochSeconds: epochSeconds,
            epochImagesPerSecond: Double(files.count) / epochSeconds,
            secondsPer1000Images: epochSeconds * 1000 / Double(files.count),
            peakRssMB: ProcessMemory.peakResidentMegabytes())
    }

    private static func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let start = DispatchTime.now()
        let value = try body()
        return (value, Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9)
    }
}
