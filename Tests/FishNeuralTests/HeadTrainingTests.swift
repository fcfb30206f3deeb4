import FishNeural
import FishRecords
import Foundation
import Testing

/// The trainable head: gradients, determinism, learning, calibration, metrics, package tensors.
@Suite struct HeadTrainingTests {
    /// `count` points per class around well-separated centres in `dimension` dimensions.
    func clusters(classes: Int, count: Int, dimension: Int, seed: UInt64, spread: Double = 0.5) -> LabelledFeatures {
        var random = SeededRandom(seed: 42)  // the same centres for every split
        let centres = (0..<(classes * dimension)).map { _ in random.normal() * 2 }
        random = SeededRandom(seed: seed)
        var features: [Float] = []
        var labels: [Int] = []
        for index in 0..<(classes * count) {
            let label = index % classes
            labels.append(label)
            features += (0..<dimension).map { Float(centres[label * dimension + $0] + random.normal() * spread) }
        }
        return LabelledFeatures(features: features, labels: labels, dimension: dimension)
    }

    func randomHead(hidden: Int, inputs: Int = 6, classes: Int = 3) -> ClassifierHead {
        var random = SeededRandom(seed: 7)
        var head = ClassifierHead(
            inputs: inputs, hidden: hidden, classes: classes,
            inputMean: (0..<inputs).map { Float($0) * 0.1 }, inputScale: (0..<inputs).map { 1 + Float($0) * 0.1 },
            random: &random)
        // Larger output weights than the initialisation, so that every gradient is sizeable.
        head.outputWeights = head.outputWeights.map { _ in Float(random.normal()) }
        head.outputBias = head.outputBias.map { _ in Float(random.normal() * 0.1) }
        return head
    }

    @Test(arguments: [0, 4])
    func gradientsMatchFiniteDifferences(hidden: Int) {
        let data = clusters(classes: 3, count: 3, dimension: 6, seed: 1, spread: 1)
        let head = randomHead(hidden: hidden)
        let weights = [1.0, 2.0, 0.5]
        let rows = Array(0..<data.count)
        let analytic = HeadTrainer.lossAndGradients(head, rows: rows, of: data, classWeights: weights, smoothing: 0.1).gradients
        func loss(_ change: (inout ClassifierHead) -> Void) -> Double {
            var changed = head
            change(&changed)
            return HeadTrainer.lossAndGradients(changed, rows: rows, of: data, classWeights: weights, smoothing: 0.1).loss
        }
        let step: Float = 5e-3
        let parameters: [(String, WritableKeyPath<ClassifierHead, [Float]>, [Float])] = [
            ("output.weight", \.outputWeights, analytic.outputWeights), ("output.bias", \.outputBias, analytic.outputBias),
            ("hidden.weight", \.hiddenWeights, analytic.hiddenWeights), ("hidden.bias", \.hiddenBias, analytic.hiddenBias),
        ]
        var checked = 0
        for (name, path, gradient) in parameters {
            #expect(gradient.count == head[keyPath: path].count)
            for index in gradient.indices {
                let numeric =
                    (loss { $0[keyPath: path][index] += step } - loss { $0[keyPath: path][index] -= step }) / Double(2 * step)
                #expect(abs(numeric - Double(gradient[index])) <= 2e-3 + 0.03 * abs(numeric), "\(name)[\(index)]")
                checked += 1
            }
        }
        #expect(checked == (hidden > 0 ? 4 * 6 + 4 + 3 * 4 + 3 : 3 * 6 + 3))
    }

    @Test func sameSeedSameHeadAndItLearns() {
        let train = clusters(classes: 4, count: 20, dimension: 8, seed: 1)
        let validation = clusters(classes: 4, count: 10, dimension: 8, seed: 2)
        var settings = HeadHyperparameters()
        settings.hidden = 16
        settings.batchSize = 16
        let first = HeadTrainer(hyperparameters: settings, classes: 4, seed: 3).train(train, validation: validation)
        let second = HeadTrainer(hyperparameters: settings, classes: 4, seed: 3).train(train, validation: validation)
        #expect(first.head == second.head && first.epochs == second.epochs)
        let other = HeadTrainer(hyperparameters: settings, classes: 4, seed: 4).train(train, validation: validation)
        #expect(other.head != first.head)
        #expect(HeadTrainer.evaluate(first.head, validation).accuracy >= 0.95)
        #expect(first.epochs.count >= 2 && first.epochs.last?.learningRate ?? 1 < settings.learningRate)
        #expect((first.epochs.last?.trainLoss ?? 9) < (first.epochs.first?.trainLoss ?? 0))
    }

    @Test func cancellingStopsAfterTheEpoch() {
        let data = clusters(classes: 2, count: 10, dimension: 4, seed: 1)
        var seen = 0
        let result = HeadTrainer(hyperparameters: HeadHyperparameters(), classes: 2, seed: 0)
            .train(data, validation: data) { _ in
                seen += 1
                return seen < 3
            }
        #expect(result.epochs.count == 3)
    }

    @Test func balancedWeightsEqualiseClasses() {
        let weights = HeadTrainer.balancedWeights([0, 0, 0, 1], classes: 3)
        #expect(weights == [4.0 / 9, 4.0 / 3, 0])
    }

    @Test func temperatureScalingCalibratesAnOverconfidentHead() {
        let train = clusters(classes: 3, count: 30, dimension: 4, seed: 1, spread: 2)
        let validation = clusters(classes: 3, count: 30, dimension: 4, seed: 2, spread: 2)
        let trained = HeadTrainer(hyperparameters: HeadHyperparameters(labelSmoothing: 0), classes: 3, seed: 0)
            .train(train, validation: validation).head
        let calibrated = TemperatureScaling.apply(TemperatureScaling.fit(trained, validation: validation), to: trained)
        let overconfident = TemperatureScaling.apply(0.2, to: calibrated)  // logits five times too large
        let temperature = TemperatureScaling.fit(overconfident, validation: validation)
        #expect(abs(temperature - 5) < 0.05, "fitted \(temperature)")
        let recalibrated = TemperatureScaling.apply(temperature, to: overconfident)
        #expect(HeadTrainer.evaluate(recalibrated, validation).loss < HeadTrainer.evaluate(overconfident, validation).loss)
        #expect(
            HeadTrainer.evaluate(recalibrated, validation).accuracy == HeadTrainer.evaluate(overconfident, validation).accuracy)
    }

    @Test func headTensorsRoundTripAndAreChecked() throws {
        for hidden in [0, 4] {
            let head = randomHead(hidden: hidden)
            #expect(try ClassifierHead(tensors: head.tensors) == head)
        }
        var tensors = randomHead(hidden: 4).tensors
        tensors["head.hidden.bias"] = HostTensor(shape: [5], values: [0, 0, 0, 0, 0])
        #expect(throws: NeuralError.shapeMismatch(name: "head.hidden.bias", expected: [4], found: [5])) {
            try ClassifierHead(tensors: tensors)
        }
        tensors = randomHead(hidden: 0).tensors
        tensors["stem.weight"] = HostTensor(shape: [1], values: [0])
        #expect(throws: NeuralError.unexpectedTensor(name: "stem.weight")) { try ClassifierHead(tensors: tensors) }
    }

    @Test func metricsOfAKnownConfusion() {
        // Actual 0,0,1,1,2 predicted 0,1,1,1,2 with confidences 0.9, 0.6, 0.8, 0.7, 0.5.
        let rows: [[Double]] = [[0.9, 0.05, 0.05], [0.3, 0.6, 0.1], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1], [0.25, 0.25, 0.5]]
        let metrics = ClassificationMetrics(
            probabilities: rows.flatMap { $0 }, labels: [0, 0, 1, 1, 2], classNames: ["a", "b", "c"])
        #expect(metrics.accuracy == 0.8)
        #expect(metrics.confusion == [[1, 1, 0], [0, 2, 0], [0, 0, 1]])
        #expect(metrics.perClass.map(\.precision) == [1, 2.0 / 3, 1])
        #expect(metrics.perClass.map(\.recall) == [0.5, 1, 1])
        let f1 = [2 * 0.5 / 1.5, 2 * (2.0 / 3) / (5.0 / 3), 1]
        #expect(abs(metrics.macroF1 - f1.reduce(0, +) / 3) < 1e-12)
        // Each confidence has a bin of its own: |0.9-1| + |0.6-0| + |0.8-1| + |0.7-1| + |0.5-1| over 5.
        #expect(abs(metrics.expectedCalibrationError - 1.7 / 5) < 1e-12)
    }
}
