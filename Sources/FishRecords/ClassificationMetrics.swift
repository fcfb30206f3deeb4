/// How well predictions match labels: accuracy, macro-F1, per-class precision/recall/F1,
/// the confusion matrix and the expected calibration error.
public struct ClassificationMetrics: Sendable, Codable, Equatable {
    public struct PerClass: Sendable, Codable, Equatable {
        public let label: String
        public let support: Int
        public let precision: Double
        public let recall: Double
        public let f1: Double
    }

    public let count: Int
    public let accuracy: Double
    /// The unweighted mean of the per-class F1 scores (classes absent from both labels and
    /// predictions are left out).
    public let macroF1: Double
    /// Expected calibration error over 15 equal-width confidence bins.
    public let expectedCalibrationError: Double
    public let perClass: [PerClass]
    /// `confusion[actual][predicted]`.
    public let confusion: [[Int]]

    public static let calibrationBins = 15

    /// Metrics of `probabilities` (`[count, classes]`, rows summing to 1) against `labels`.
    public init(probabilities: [Double], labels: [Int], classNames: [String]) {
        let classes = classNames.count
        count = labels.count
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        var binCount = [Int](repeating: 0, count: Self.calibrationBins)
        var binConfidence = [Double](repeating: 0, count: Self.calibrationBins)
        var binCorrect = [Double](repeating: 0, count: Self.calibrationBins)
        for (row, label) in labels.enumerated() {
            let rowProbabilities = probabilities[(row * classes)..<((row + 1) * classes)]
            var predicted = 0
            for c in 0..<classes where rowProbabilities[row * classes + c] > rowProbabilities[row * classes + predicted] {
                predicted = c
            }
            confusion[label][predicted] += 1
            let confidence = rowProbabilities[row * classes + predicted]
            let bin = min(Int(confidence * Double(Self.calibrationBins)), Self.calibrationBins - 1)
            binCount[bin] += 1
            binConfidence[bin] += confidence
            binCorrect[bin] += predicted == label ? 1 : 0
        }
        self.confusion = confusion
        let correct = (0..<classes).reduce(0) { $0 + confusion[$1][$1] }
        accuracy = count > 0 ? Double(correct) / Double(count) : 0
        let perClass = (0..<classes).map { c in
            let support = confusion[c].reduce(0, +)
            let predicted = confusion.reduce(0) { $0 + $1[c] }
            let hits = Double(confusion[c][c])
            let precision = predicted > 0 ? hits / Double(predicted) : 0
            let recall = support > 0 ? hits / Double(support) : 0
            let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
            return PerClass(label: classNames[c], support: support, precision: precision, recall: recall, f1: f1)
        }
        self.perClass = perClass
        let present = (0..<classes).filter { c in perClass[c].support > 0 || confusion.contains { $0[c] > 0 } }
        macroF1 = present.isEmpty ? 0 : present.reduce(0.0) { $0 + perClass[$1].f1 } / Double(present.count)
        expectedCalibrationError =
            count > 0
            ? (0..<Self.calibrationBins).reduce(0.0) { total, bin in
                total + abs(binConfidence[bin] - binCorrect[bin])
            } / Double(count) : 0
    }
}
