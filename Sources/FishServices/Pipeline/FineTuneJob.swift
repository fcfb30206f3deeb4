package import FishCluster
import FishImaging
package import FishNeural
package import Foundation

/// The worker side of fine-tuning: the frozen part of the backbone turns each (augmented) image
/// into the activations the trainable tail starts from, and `FineTuner` trains the tail, the
/// head convolution and the classifier (started from the best trial's linear head).
package struct FineTuneJob: Sendable {
    let task: WorkerTask.FineTune
    let threads: Int
    /// The backbone with batch norm folded, for the frozen part.
    let engine: InferenceEngine
    /// The trainable part, initialised from the backbone and the head.
    package let tail: TrainableTail<Float>
    /// Side of the tail's input activations.
    package let side: Int

    package init(task: WorkerTask.FineTune, threads: Int) throws {
        self.task = task
        self.threads = threads
        let base = try ModelPackage.open(URL(fileURLWithPath: task.backbonePackage)).loadWeights()
        engine = try InferenceEngine(tensors: base, threads: threads)
        let head = try TrialResult.read(URL(fileURLWithPath: task.head)).head
        let architecture = TrainableTail<Float>.Architecture(
            network: engine.architecture, classes: task.classes, firstBlock: task.settings.unfreezeFrom)
        let (trainable, statistics) = architecture.shapes
        var tensors = try FineTunedNetwork.floats(base, names: Set(trainable.keys).union(statistics.keys))
        (tensors["_fc.weight"], tensors["_fc.bias"]) = try FineTunedNetwork.classifier(from: head)
        tail = try TrainableTail(architecture: architecture, tensors: tensors)
        let size = task.preprocessing.inputSize
        side =
            task.settings.unfreezeFrom == 0
            ? size : engine.architecture.shape(size: size, beforeBlock: task.settings.unfreezeFrom).side
    }

    /// The tail's inputs for `requests`: decoded, augmented for `epoch` (when given, seeded by the
    /// image and epoch), preprocessed and run through the frozen blocks.
    package func inputs(_ requests: [FeatureRequest], epoch: Int?) throws -> [Float] {
        let seed = task.seed
        let images = try ImageBatch.tensor(
            requests.map(\.path), preprocessing: task.preprocessing, maxPixels: task.maxPixels,
            threads: threads
        ) { slot in
            epoch.map { epoch in
                var random = SeededRandom(seed, UInt64(epoch), UInt64(truncatingIfNeeded: requests[slot].sha256.hashValueStable))
                return Augmentation(random: &random)
            }
        }
        let first = task.settings.unfreezeFrom
        if first == 0 { return images }
        return images.withUnsafeBufferPointer {
            engine.activations(
                $0, batch: requests.count, size: task.preprocessing.inputSize, beforeBlock: first, threads: threads
            ).values
        }
    }

    /// Trains to the end (or from the checkpoint on) and writes the best epoch's tensors to `result`.
    package func run(result: URL, emit: (WorkerMessage) -> Void, isCancelled: () -> Bool) throws {
        var validationInputs: [Float] = []
        for start in stride(from: 0, to: task.validation.count, by: 32) {
            validationInputs += try inputs(Array(task.validation[start..<min(start + 32, task.validation.count)]), epoch: nil)
        }
        let counts = (0..<task.classes).map { label in task.trainLabels.filter { $0 == label }.count }
        let classWeights = counts.map { Float(task.trainLabels.count) / Float(task.classes * max($0, 1)) }
        let tuner = FineTuner(tail: tail, settings: task.settings, seed: task.seed, classWeights: classWeights, threads: threads)
        let (train, epochs, job) = (task.train, task.settings.epochs, self)
        let history = try tuner.train(
            count: train.count, labels: task.trainLabels, side: side,
            inputs: { epoch, indices in try job.inputs(indices.map { train[$0] }, epoch: epoch) },
            validation: .init(inputs: validationInputs, labels: task.validationLabels, side: side),
            checkpoint: URL(fileURLWithPath: task.checkpoint),
            onEpoch: { record in
                WorkerMessage.epochLines(record, of: epochs).forEach(emit)
                return !isCancelled()
            })
        if isCancelled() { throw ServiceError.cancelled }
        try FineTuneResult(parameters: tuner.bestParameters, epochs: history, bestEpoch: tuner.state.bestEpoch).write(to: result)
    }
}

/// What a fine-tuning task leaves behind: the best epoch's trainable tensors (PyTorch names) and
/// the epochs, in one safetensors file.
struct FineTuneResult {
    let parameters: [String: [Float]]
    let epochs: [EpochRecord]
    let bestEpoch: Int

    func write(to url: URL) throws {
        let tensors = parameters.mapValues { HostTensor(shape: [$0.count], values: $0) }
        let data = try SafeTensors.encode(
            tensors,
            metadata: [
                "epochs": String(decoding: try JSONEncoder().encode(epochs), as: UTF8.self), "best_epoch": "\(bestEpoch)",
            ])
        try AtomicFile.write(data, to: url)
    }

    static func read(_ url: URL) throws -> FineTuneResult {
        guard let data = try? Data(contentsOf: url) else {
            throw ServiceError.failed("\(url.path): cannot read the fine-tuning result")
        }
        let (tensors, metadata) = try SafeTensors.decode(data, path: url.path)
        guard let epochs = metadata["epochs"].flatMap({ try? JSONDecoder().decode([EpochRecord].self, from: Data($0.utf8)) }),
            let best = metadata["best_epoch"].flatMap(Int.init)
        else {
            throw ServiceError.failed("\(url.path): the fine-tuning result lacks its epochs")
        }
        var parameters: [String: [Float]] = [:]
        for (name, tensor) in tensors { parameters[name] = try tensor.floats(name: name) }
        return FineTuneResult(parameters: parameters, epochs: epochs, bestEpoch: best)
    }
}

/// Full EfficientNet-Lite0 tensors from a base checkpoint and fine-tuned parts.
enum FineTunedNetwork {
    /// The named tensors of `tensors` as flat float arrays.
    static func floats(_ tensors: [String: HostTensor], names: Set<String>) throws -> [String: [Float]] {
        var result: [String: [Float]] = [:]
        for name in names {
            guard let tensor = tensors[name] else { continue }  // the classifier comes from the head
            result[name] = try tensor.floats(name: name)
        }
        return result
    }

    /// A linear head's standardisation folded into one classifier: `W' = W * scale`,
    /// `b' = b - W' mean`. Features that barely varied in the training embeddings have huge
    /// scales; once the backbone trains (and augmentation varies them) those would blow the logits
    /// up, so scales are capped at 10x their median (which changes nothing on the data the head saw:
    /// there those features sit at their mean).
    static func classifier(from head: ClassifierHead) throws -> ([Float], [Float]) {
        guard head.hidden == 0 else {
            throw ServiceError.invalidArgument("fine-tuning starts from a linear head; the best trial has a hidden layer")
        }
        let median = head.inputScale.sorted()[head.inputScale.count / 2]
        let scale = head.inputScale.map { min($0, 10 * median) }
        var weights = head.outputWeights
        var bias = head.outputBias
        for c in 0..<head.classes {
            var shift: Float = 0
            for i in 0..<head.inputs {
                weights[c * head.inputs + i] *= scale[i]
                shift += weights[c * head.inputs + i] * head.inputMean[i]
            }
            bias[c] -= shift
        }
        return (weights, bias)
    }

    /// `base` with `parameters` replacing its tensors (the classifier resized to the new classes).
    static func merge(_ base: [String: HostTensor], _ parameters: [String: [Float]], classes: Int) -> [String: HostTensor] {
        var merged = base.filter { !$0.key.hasSuffix("num_batches_tracked") }
        for (name, values) in parameters {
            let shape =
                name == "_fc.weight"
                ? [classes, EfficientNetLite.embeddingSize]
                : name == "_fc.bias" ? [classes] : (merged[name]?.shape ?? [values.count])
            merged[name] = HostTensor(shape: shape, values: values)
        }
        return merged
    }
}
