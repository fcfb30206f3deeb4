public import FishRecords
import Foundation

public enum Softmax {
    /// The softmax of `logits`, computed in double precision.
    public static func probabilities(_ logits: some Collection<Float>) -> [Double] {
        guard let largest = logits.max() else { return [] }
        let exponentials = logits.map { exp(Double($0 - largest)) }
        let total = exponentials.reduce(0, +)
        return exponentials.map { $0 / total }
    }

    /// The `k` most probable classes of `logits`, most probable first.
    public static func top(_ k: Int, logits: some Collection<Float>, labels: [String]) -> [Prediction] {
        let probabilities = probabilities(logits)
        return probabilities.indices
            .sorted { probabilities[$0] > probabilities[$1] || (probabilities[$0] == probabilities[$1] && $0 < $1) }
            .prefix(max(k, 0))
            .map { Prediction(label: $0 < labels.count ? labels[$0] : "class \($0)", index: $0, probability: probabilities[$0]) }
    }
}
