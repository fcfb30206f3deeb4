import Foundation

/// Temperature scaling (Guo et al. 2017): one scalar T fitted on validation data so that
/// `softmax(logits / T)` is calibrated; accuracy is unchanged.
public enum TemperatureScaling {
    /// The temperature in [0.01, 100] that minimises the validation cross-entropy of `head`.
    public static func fit(_ head: ClassifierHead, validation: LabelledFeatures) -> Double {
        guard validation.count > 0 else { return 1 }
        let logits = head.logits(validation.features, count: validation.count)
        func loss(_ logTemperature: Double) -> Double {
            let scale = Float(exp(-logTemperature))
            var total = 0.0
            for row in 0..<validation.count {
                let scaled = logits[(row * head.classes)..<((row + 1) * head.classes)].map { $0 * scale }
                total -= log(max(Softmax.probabilities(scaled)[validation.labels[row]], 1e-12))
            }
            return total
        }
        // Golden-section search on log T (the loss is convex in 1/T).
        var (low, high) = (log(0.01), log(100.0))
        let ratio = (5.0.squareRoot() - 1) / 2
        for _ in 0..<60 {
            let a = high - ratio * (high - low)
            let b = low + ratio * (high - low)
            if loss(a) < loss(b) { high = b } else { low = a }
        }
        return exp((low + high) / 2)
    }

    /// `head` with its logits divided by `temperature`.
    public static func apply(_ temperature: Double, to head: ClassifierHead) -> ClassifierHead {
        var scaled = head
        let factor = Float(1 / temperature)
        scaled.outputWeights = head.outputWeights.map { $0 * factor }
        scaled.outputBias = head.outputBias.map { $0 * factor }
        return scaled
    }
}
