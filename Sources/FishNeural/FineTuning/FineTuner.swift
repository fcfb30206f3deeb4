import Dispatch
public import FishRecords
public import Foundation

/// Trains a `TrainableTail` with AdamW: layer-wise learning-rate decay, linear warm-up then cosine,
/// weight decay on weights only, global gradient-norm clipping, early stopping on validation loss
/// (the best epoch's weights are kept), and a checkpoint after every epoch from which an
/// interrupted run continues to the same result. The next batch's inputs are prepared while the
/// current one trains.
public final class FineTuner: @unchecked Sendable {
    /// Where a run stands; saved in every checkpoint.
    public struct State: Sendable, Codable, Equatable {
        public var epochsDone = 0
        public var step = 0
        public var bestLoss = Double.infinity
        public var bestEpoch = 0
        public var epochsSinceBest = 0
        public var history: [EpochRecord] = []
    }

    /// Validation inputs (the tail's input activations) and labels.
    public struct Validation: Sendable {
        public let inputs: [Float]
        public let labels: [Int]
        public let side: Int

        public init(inputs: [Float], labels: [Int], side: Int) {
            self.inputs = inputs
            self.labels = labels
            self.side = side
        }
    }

    public let settings: FineTuneSettings
    public let seed: UInt64
    private(set) public var tail: TrainableTail<Float>
    private(set) public var state = State()
    private var best: [String: [Float]]
    private var moments: [String: [Float]] = [:], squares: [String: [Float]] = [:]
    private let names: [String]
    private let classWeights: [Float]?

    /// Threads that share each batch's forward and backward passes.
    public let threads: Int

    public init(
        tail: TrainableTail<Float>, settings: FineTuneSettings, seed: UInt64, classWeights: [Float]? = nil, threads: Int = 1
    ) {
        self.tail = tail
        self.threads = max(threads, 1)
        self.settings = settings
        self.seed = seed
        self.classWeights = classWeights
        names = tail.parameters.keys.sorted()
        best = tail.parameters
        for name in names {
            moments[name] = [Float](repeating: 0, count: tail.parameters[name]?.count ?? 0)
            squares[name] = moments[name]
        }
    }

    /// The best epoch's weights (what training returns).
    public var bestParameters: [String: [Float]] { best }

    /// Trains on `count` images with `labels`; `inputs(epoch, indices)` returns the tail inputs of
    /// those images as seen in that epoch (augmented), `side` x `side`. Continues from
    /// `checkpoint` when it holds an earlier epoch of the same run. `onEpoch` returns false to stop.
    public func train(
        count: Int, labels: [Int], side: Int, inputs: @escaping @Sendable (Int, [Int]) throws -> [Float],
        validation: Validation, checkpoint: URL?,
        onEpoch: (EpochRecord) -> Bool = { _ in true }
    ) throws -> [EpochRecord] {
        if let checkpoint, FileManager.default.fileExists(atPath: checkpoint.path) { try restore(checkpoint) }
        let perEpoch = (count + settings.batchSize - 1) / settings.batchSize
        let totalSteps = perEpoch * settings.epochs
        let warmup = Int(settings.warmupEpochs * Double(perEpoch))
        while state.epochsDone < settings.epochs && state.epochsSinceBest < settings.patience {
            let epoch = state.epochsDone + 1
            var order = Array(0..<count)
            var random = SeededRandom(seed, 0x6674, UInt64(epoch))
            order.shuffle(using: &random)
            let batches = stride(from: 0, to: count, by: settings.batchSize).map {
                Array(order[$0..<min($0 + settings.batchSize, count)])
            }
            var lossSum = 0.0
            var correct = 0
            var learningRate = 0.0
            var pending = Prefetch(epoch: epoch, indices: batches.first ?? [], inputs: inputs)
            for (index, batch) in batches.enumerated() {
                let input = try pending.value()
                if index + 1 < batches.count { pending = Prefetch(epoch: epoch, indices: batches[index + 1], inputs: inputs) }
                learningRate = schedule(step: state.step, warmup: warmup, total: totalSteps)
                let (loss, gradients, right) = tail.lossAndGradients(
                    input, batch: batch.count, side: side, labels: batch.map { labels[$0] },
                    smoothing: Float(settings.labelSmoothing), classWeights: classWeights,
                    threads: threads)
                lossSum += Double(loss) * Double(batch.count)
                correct += right
                step(gradients, learningRate: learningRate)
            }
            let (validationLoss, validationAccuracy) = evaluate(validation)
            let record = EpochRecord(
                epoch: epoch, trainLoss: lossSum / Double(max(count, 1)), trainAccuracy: Double(correct) / Double(max(count, 1)),
                validationLoss: validationLoss, validationAccuracy: validationAccuracy, learningRate: learningRate)
            state.history.append(record)
            state.epochsDone = epoch
            if validationLoss < state.bestLoss {
                (state.bestLoss, state.bestEpoch, state.epochsSinceBest) = (validationLoss, epoch, 0)
                best = tail.parameters
            } else {
                state.epochsSinceBest += 1
            }
            if let checkpoint { try save(checkpoint) }
            if !onEpoch(record) { break }
        }
        return state.history
    }

    /// Mean cross-entropy (no smoothing) and accuracy of the current weights on `validation`.
    public func evaluate(_ validation: Validation) -> (loss: Double, accuracy: Double) {
        let count = validation.labels.count
        guard count > 0 else { return (0, 0) }
        let perImage = validation.inputs.count / count
        var lossSum = 0.0
        var correct = 0
        for start in stride(from: 0, to: count, by: 64) {
            let end = min(start + 64, count)
            let trace = tail.forward(
                Array(validation.inputs[(start * perImage)..<(end * perImage)]), batch: end - start, side: validation.side)
            let (loss, _, right) = Layers.crossEntropy(
                trace.logits, labels: Array(validation.labels[start..<end]),
                classes: tail.architecture.classes, smoothing: 0)
            lossSum += Double(loss) * Double(end - start)
            correct += right
        }
        return (lossSum / Double(count), Double(correct) / Double(count))
    }

    private func schedule(step: Int, warmup: Int, total: Int) -> Double {
        if step < warmup { return settings.learningRate * Double(step + 1) / Double(warmup) }
        let progress = Double(step - warmup) / Double(max(total - warmup, 1))
        return settings.learningRate * 0.5 * (1 + cos(Double.pi * min(progress, 1)))
    }

    /// How many layers below the classifier a tensor sits (for the layer-wise decay).
    private func depth(_ name: String) -> Int {
        let blocks = tail.architecture.blocks
        if name.hasPrefix("_blocks."), let index = Int(name.dropFirst(8).prefix { $0.isNumber }) { return blocks.count - index }
        if name.hasPrefix("_conv_stem") || name.hasPrefix("_bn0.") { return blocks.count + 1 }
        return 0
    }

    private static func decays(_ name: String) -> Bool {
        name.hasSuffix("conv.weight") || name.hasSuffix("_conv_stem.weight") || name == "_fc.weight"
    }

    /// One AdamW step with clipping.
    private func step(_ gradients: [String: [Float]], learningRate: Double) {
        let norm = names.reduce(0.0) { total, name in total + (gradients[name] ?? []).reduce(0.0) { $0 + Double($1) * Double($1) }
        }.squareRoot()
        let clip = norm > settings.clipNorm ? Float(settings.clipNorm / norm) : 1
        state.step += 1
        let (beta1, beta2, epsilon): (Float, Float, Float) = (0.9, 0.999, 1e-8)
        let correction1 = 1 - pow(beta1, Float(state.step))
        let correction2 = 1 - pow(beta2, Float(state.step))
        for name in names {
            guard let gradient = gradients[name], var values = tail.parameters[name], var m = moments[name], var v = squares[name]
            else { continue }
            let rate = Float(learningRate * pow(settings.layerDecay, Double(depth(name))))
            let decay = Self.decays(name) ? Float(settings.weightDecay) * rate : 0
            for i in values.indices {
                let g = gradient[i] * clip
                m[i] = beta1 * m[i] + (1 - beta1) * g
                v[i] = beta2 * v[i] + (1 - beta2) * g * g
                values[i] -= rate * (m[i] / correction1) / ((v[i] / correction2).squareRoot() + epsilon) + decay * values[i]
            }
            tail.parameters[name] = values
            moments[name] = m
            squares[name] = v
        }
    }

    /// Writes weights, best weights, optimiser moments and state to `url` (temp + rename).
    private func save(_ url: URL) throws {
        var tensors: [String: HostTensor] = [:]
        for name in names {
            for (prefix, source) in [("weights/", tail.parameters), ("best/", best), ("m/", moments), ("v/", squares)] {
                if let values = source[name] { tensors[prefix + name] = HostTensor(shape: [values.count], values: values) }
            }
        }
        let data = try SafeTensors.encode(
            tensors, metadata: ["state": String(decoding: try JSONEncoder().encode(state), as: UTF8.self)])
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".tmp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: temporary)
        guard rename(temporary.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw NeuralError.invalidPackage(path: url.path, reason: "cannot rename the checkpoint into place")
        }
    }

    private func restore(_ url: URL) throws {
        let (tensors, metadata) = try SafeTensors.decode(try Data(contentsOf: url), path: url.path)
        guard let text = metadata["state"], let restored = try? JSONDecoder().decode(State.self, from: Data(text.utf8)) else {
            throw NeuralError.invalidPackage(path: url.path, reason: "the checkpoint has no training state")
        }
        for name in names {
            guard let weights = tensors["weights/" + name], let best = tensors["best/" + name], let m = tensors["m/" + name],
                let v = tensors["v/" + name]
            else {
                throw NeuralError.invalidPackage(
                    path: url.path, reason: "the checkpoint lacks \(name); it belongs to another setup")
            }
            tail.parameters[name] = try weights.floats(name: name)
            self.best[name] = try best.floats(name: name)
            moments[name] = try m.floats(name: name)
            squares[name] = try v.floats(name: name)
        }
        state = restored
    }
}

/// A batch's inputs computed on another thread.
private final class Prefetch: @unchecked Sendable {
    private let group = DispatchGroup()
    private var result: Result<[Float], any Error> = .success([])

    init(epoch: Int, indices: [Int], inputs: @escaping @Sendable (Int, [Int]) throws -> [Float]) {
        group.enter()
        DispatchQueue.global(qos: .userInitiated).async {
            self.result = Result { try inputs(epoch, indices) }
            self.group.leave()
        }
    }

    func value() throws -> [Float] {
        group.wait()
        return try result.get()
    }
}
