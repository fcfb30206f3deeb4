public import FishRecords
import Foundation

/// Embeddings and their class indices.
public struct LabelledFeatures: Sendable {
    public let features: [Float]
    public let labels: [Int]
    public let dimension: Int
    public var count: Int { labels.count }

    public init(features: [Float], labels: [Int], dimension: Int) {
        precondition(features.count == labels.count * dimension, "features and labels disagree")
        self.features = features
        self.labels = labels
        self.dimension = dimension
    }
}

/// Trains a `ClassifierHead` with AdamW (decoupled weight decay on weights, not biases),
/// label smoothing, optional class-balanced loss, a cosine learning-rate schedule and early
/// stopping on validation loss (the best epoch's weights are kept). Deterministic for a seed.
public struct HeadTrainer: Sendable {
    public let hyperparameters: HeadHyperparameters
    public let classes: Int
    public let seed: UInt64

    public init(hyperparameters: HeadHyperparameters, classes: Int, seed: UInt64) {
        self.hyperparameters = hyperparameters
        self.classes = classes
        self.seed = seed
    }

    /// Trains on `train`, stopping early on `validation`. `onEpoch` sees every epoch and returns
    /// false to cancel (the best head so far is returned).
    public func train(
        _ train: LabelledFeatures, validation: LabelledFeatures,
        onEpoch: (EpochRecord) -> Bool = { _ in true }
    ) -> (head: ClassifierHead, epochs: [EpochRecord]) {
        let settings = hyperparameters
        var random = SeededRandom(seed, 1)
        let (mean, scale) = Self.standardisation(train)
        var head = ClassifierHead(
            inputs: train.dimension, hidden: settings.hidden, classes: classes,
            inputMean: mean, inputScale: scale, random: &random)
        let classWeights =
            settings.classBalanced
            ? Self.balancedWeights(train.labels, classes: classes)
            : [Double](repeating: 1, count: classes)
        var optimiser = AdamW(head: head)
        let stepsPerEpoch = max((train.count + settings.batchSize - 1) / settings.batchSize, 1)
        let totalSteps = stepsPerEpoch * settings.epochs
        var step = 0
        var order = Array(0..<train.count)
        var best = (loss: Double.infinity, head: head)
        var epochsSinceBest = 0
        var records: [EpochRecord] = []
        for epoch in 1...settings.epochs {
            order.shuffle(using: &random)
            var lossSum = 0.0
            var correct = 0
            var learningRate = settings.learningRate
            for start in stride(from: 0, to: train.count, by: settings.batchSize) {
                let batch = Array(order[start..<min(start + settings.batchSize, train.count)])
                learningRate = settings.learningRate * 0.5 * (1 + cos(Double.pi * Double(step) / Double(totalSteps)))
                let result = Self.lossAndGradients(
                    head, rows: batch, of: train, classWeights: classWeights,
                    smoothing: settings.labelSmoothing)
                lossSum += result.loss * Double(batch.count)
                correct += result.correct
                optimiser.step(
                    &head, gradients: result.gradients, learningRate: learningRate,
                    weightDecay: settings.weightDecay)
                step += 1
            }
            let checked = Self.evaluate(head, validation)
            let record = EpochRecord(
                epoch: epoch, trainLoss: lossSum / Double(max(train.count, 1)),
                trainAccuracy: Double(correct) / Double(max(train.count, 1)),
                validationLoss: checked.loss, validationAccuracy: checked.accuracy,
                learningRate: learningRate)
            records.append(record)
            if checked.loss < best.loss {
                best = (checked.loss, head)
                epochsSinceBest = 0
            } else {
                epochsSinceBest += 1
            }
            if !onEpoch(record) || epochsSinceBest >= settings.patience { break }
        }
        return (best.head, records)
    }

    /// Mean cross-entropy (no smoothing, no weights) and accuracy of `head` on `data`.
    public static func evaluate(_ head: ClassifierHead, _ data: LabelledFeatures) -> (loss: Double, accuracy: Double) {
        guard data.count > 0 else { return (0, 0) }
        let logits = head.logits(data.features, count: data.count)
        var loss = 0.0
        var correct = 0
        for row in 0..<data.count {
            let probabilities = Softmax.probabilities(logits[(row * head.classes)..<((row + 1) * head.classes)])
            loss -= log(max(probabilities[data.labels[row]], 1e-12))
            if probabilities.indices.max(by: { probabilities[$0] < probabilities[$1] }) == data.labels[row] { correct += 1 }
        }
        return (loss / Double(data.count), Double(correct) / Double(data.count))
    }

    /// The class-weighted, label-smoothed mean cross-entropy of `rows` of `data`, how many of them
    /// are classified correctly, and the loss's gradient for every parameter.
    public static func lossAndGradients(
        _ head: ClassifierHead, rows batch: [Int], of data: LabelledFeatures,
        classWeights: [Double], smoothing: Double
    )
        -> (loss: Double, correct: Int, gradients: HeadGradients)
    {
        let count = batch.count
        let dimension = data.dimension
        let classes = head.classes
        var features = [Float](repeating: 0, count: count * dimension)
        for (row, index) in batch.enumerated() {
            features.replaceSubrange(
                (row * dimension)..<((row + 1) * dimension),
                with: data.features[(index * dimension)..<((index + 1) * dimension)])
        }
        var activations = HeadActivations()
        head.forward(features, count: count, into: &activations)
        let totalWeight = batch.reduce(0.0) { $0 + classWeights[data.labels[$1]] }
        var outputDelta = [Float](repeating: 0, count: count * classes)
        var loss = 0.0
        var correct = 0
        for (row, index) in batch.enumerated() {
            let label = data.labels[index]
            let probabilities = Softmax.probabilities(activations.logits[(row * classes)..<((row + 1) * classes)])
            let weight = classWeights[label] / totalWeight
            for c in 0..<classes {
                let target = (c == label ? 1 - smoothing : 0) + smoothing / Double(classes)
                loss -= weight * target * log(max(probabilities[c], 1e-12))
                outputDelta[row * classes + c] = Float(weight * (probabilities[c] - target))
            }
            if probabilities.indices.max(by: { probabilities[$0] < probabilities[$1] }) == label { correct += 1 }
        }
        var gradients = HeadGradients(head: head)
        let layerInput = head.hidden > 0 ? activations.hidden : activations.standardised
        Self.accumulate(
            delta: outputDelta, input: layerInput, count: count, outputs: classes, inputs: head.width,
            weights: &gradients.outputWeights, bias: &gradients.outputBias)
        if head.hidden > 0 {
            var hiddenDelta = [Float](repeating: 0, count: count * head.hidden)
            outputDelta.withUnsafeBufferPointer { delta in
                head.outputWeights.withUnsafeBufferPointer { weights in
                    hiddenDelta.withUnsafeMutableBufferPointer { target in
                        guard let d = delta.baseAddress, let w = weights.baseAddress, let t = target.baseAddress else { return }
                        Gemm.multiply(d, w, into: t, m: count, n: head.hidden, k: classes)
                    }
                }
            }
            for index in hiddenDelta.indices where activations.hidden[index] <= 0 { hiddenDelta[index] = 0 }
            Self.accumulate(
                delta: hiddenDelta, input: activations.standardised, count: count, outputs: head.hidden,
                inputs: head.inputs, weights: &gradients.hiddenWeights, bias: &gradients.hiddenBias)
        }
        return (loss, correct, gradients)
    }

    /// Weight gradient `delta[count, outputs]^T x input[count, inputs]` and bias gradient (column sums).
    private static func accumulate(
        delta: [Float], input: [Float], count: Int, outputs: Int, inputs: Int,
        weights: inout [Float], bias: inout [Float]
    ) {
        delta.withUnsafeBufferPointer { d in
            input.withUnsafeBufferPointer { x in
                weights.withUnsafeMutableBufferPointer { w in
                    guard let d = d.baseAddress, let x = x.baseAddress, let w = w.baseAddress else { return }
                    Gemm.multiply(d, transposeA: true, x, into: w, m: outputs, n: inputs, k: count)
                }
            }
        }
        for row in 0..<count {
            for column in 0..<outputs { bias[column] += delta[row * outputs + column] }
        }
    }

    /// Per-feature mean and inverse standard deviation (features that never vary keep scale 1).
    static func standardisation(_ data: LabelledFeatures) -> (mean: [Float], scale: [Float]) {
        let dimension = data.dimension
        var sum = [Double](repeating: 0, count: dimension)
        var squares = sum
        for row in 0..<data.count {
            for column in 0..<dimension {
                let value = Double(data.features[row * dimension + column])
                sum[column] += value
                squares[column] += value * value
            }
        }
        let count = Double(max(data.count, 1))
        let mean = sum.map { $0 / count }
        let scale = (0..<dimension).map { column -> Float in
            let variance = squares[column] / count - mean[column] * mean[column]
            return variance > 1e-12 ? Float(1 / variance.squareRoot()) : 1
        }
        return (mean.map(Float.init), scale)
    }

    /// Weights `n / (classes * n_c)`: every class contributes equally to the loss.
    public static func balancedWeights(_ labels: [Int], classes: Int) -> [Double] {
        var counts = [Int](repeating: 0, count: classes)
        for label in labels { counts[label] += 1 }
        return counts.map { $0 > 0 ? Double(labels.count) / Double(classes * $0) : 0 }
    }
}
