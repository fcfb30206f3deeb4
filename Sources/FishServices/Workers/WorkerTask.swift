public import FishImaging
public import FishNeural
public import Foundation

/// A task file of the worker protocol (`fishops worker --task FILE`): what to do, its inputs,
/// and where the result goes. Paths are absolute, on storage every worker sees.
public struct WorkerTask: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// Backbone embeddings of a shard of images (through the feature cache).
        case extract
        /// One head-training trial on extracted features.
        case trial
        /// Fine-tuning of the backbone's last blocks with the head, from the best trial's head.
        case finetune
    }

    /// Embeddings of a list of image views.
    public struct Extract: Sendable, Codable, Equatable {
        /// The backbone's model package folder.
        public var backbonePackage: String
        public var preprocessing: Preprocessing
        /// The shared feature cache folder.
        public var featureCache: String
        public var maxPixels: Int
        public var images: [FeatureRequest]
        /// The class index of each image, carried into the result.
        public var labels: [Int]
    }

    /// A head-training trial.
    public struct Trial: Sendable, Codable, Equatable {
        /// Feature files (see `FeatureFile`).
        public var train: String
        public var validation: String
        public var hyperparameters: HeadHyperparameters
        public var classes: Int
        public var seed: UInt64
    }

    /// Fine-tuning on decoded, augmented images.
    public struct FineTune: Sendable, Codable, Equatable {
        public var backbonePackage: String
        public var preprocessing: Preprocessing
        public var maxPixels: Int
        /// The trial result whose (linear) head starts the classifier.
        public var head: String
        public var train: [FeatureRequest]
        public var trainLabels: [Int]
        public var validation: [FeatureRequest]
        public var validationLabels: [Int]
        public var classes: Int
        public var settings: FineTuneSettings
        public var seed: UInt64
        /// Written after every epoch; an interrupted task continues from it.
        public var checkpoint: String
        /// Threads to use, when the coordinator knows the machine (the local pool): fine-tuning is
        /// one task, so it takes every core rather than one worker's share.
        public var threads: Int?

        package init(
            backbonePackage: String, preprocessing: Preprocessing, maxPixels: Int, head: String, train: [FeatureRequest],
            trainLabels: [Int], validation: [FeatureRequest], validationLabels: [Int], classes: Int,
            settings: FineTuneSettings, seed: UInt64, checkpoint: String, threads: Int?
        ) {
            (self.backbonePackage, self.preprocessing, self.maxPixels, self.head) = (
                backbonePackage, preprocessing, maxPixels, head
            )
            (self.train, self.trainLabels, self.validation, self.validationLabels) = (
                train, trainLabels, validation, validationLabels
            )
            (self.classes, self.settings, self.seed, self.checkpoint, self.threads) = (
                classes, settings, seed, checkpoint, threads
            )
        }
    }

    public var id: String
    public var kind: Kind
    /// The result file (a feature file for `extract`, safetensors for `trial`).
    public var result: String
    public var extract: Extract?
    public var trial: Trial?
    public var finetune: FineTune?

    /// Reads a task file, with an error naming it when it is missing or malformed.
    public static func load(_ url: URL) throws -> WorkerTask {
        guard let data = try? Data(contentsOf: url) else {
            throw ServiceError.invalidArgument("\(url.path): cannot read the task file")
        }
        do {
            let task = try JSONDecoder().decode(WorkerTask.self, from: data)
            guard (task.kind == .extract) == (task.extract != nil), (task.kind == .trial) == (task.trial != nil),
                (task.kind == .finetune) == (task.finetune != nil)
            else {
                throw ServiceError.invalidArgument(
                    "\(url.path): a \(task.kind.rawValue) task needs its \(task.kind.rawValue) section")
            }
            return task
        } catch let error as ServiceError {
            throw error
        } catch {
            throw ServiceError.invalidArgument("\(url.path): not a worker task file (\(error))")
        }
    }

    /// Writes the task file atomically.
    public func save(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(self), to: url)
    }
}

/// What a trial task leaves behind: the trained head and its epochs, in one safetensors file
/// (the epochs and summary ride in its metadata).
public struct TrialResult: Sendable, Equatable {
    public let head: ClassifierHead
    public let epochs: [EpochRecord]
    public let validationLoss: Double
    public let validationAccuracy: Double

    package init(head: ClassifierHead, epochs: [EpochRecord], validationLoss: Double, validationAccuracy: Double) {
        (self.head, self.epochs, self.validationLoss, self.validationAccuracy) = (
            head, epochs, validationLoss, validationAccuracy
        )
    }

    package func write(to url: URL) throws {
        let epochs = String(decoding: try JSONEncoder().encode(self.epochs), as: UTF8.self)
        let data = try SafeTensors.encode(
            head.tensors,
            metadata: [
                "epochs": epochs, "validation_loss": "\(validationLoss)", "validation_accuracy": "\(validationAccuracy)",
            ])
        try AtomicFile.write(data, to: url)
    }

    static func read(_ url: URL) throws -> TrialResult {
        guard let data = try? Data(contentsOf: url) else {
            throw ServiceError.failed("\(url.path): cannot read the trial result")
        }
        let (tensors, metadata) = try SafeTensors.decode(data, path: url.path)
        guard let epochs = metadata["epochs"].flatMap({ try? JSONDecoder().decode([EpochRecord].self, from: Data($0.utf8)) }),
            let loss = metadata["validation_loss"].flatMap(Double.init),
            let accuracy = metadata["validation_accuracy"].flatMap(Double.init)
        else {
            throw ServiceError.failed("\(url.path): the trial result lacks its epochs or validation figures")
        }
        return TrialResult(
            head: try ClassifierHead(tensors: tensors), epochs: epochs, validationLoss: loss, validationAccuracy: accuracy)
    }
}
