import Foundation

/// One class and its probability.
public struct Prediction: Sendable, Codable, Equatable {
    public let label: String
    public let index: Int
    public let probability: Double

    public init(label: String, index: Int, probability: Double) {
        self.label = label
        self.index = index
        self.probability = probability
    }
}
