import FishNeural
public import Foundation

/// What a trained version's traffic is compared with (`drift-reference.json` in its package): a
/// sample of its training images' embeddings projected on their top principal components, and
/// the class mix and mean top-1 confidence of its answers on the test split.
public struct DriftReference: Codable, Sendable, Equatable {
    public static let fileName = "drift-reference.json"
    /// Principal components kept.
    public static let componentCount = 10
    /// Most training images sampled.
    public static let sampleLimit = 1000

    public var format = 1
    /// The embedding width the basis applies to.
    public var dimension: Int
    /// The embeddings' mean (`dimension` floats).
    public var mean: [Float]
    /// The top principal directions, orthonormal, `dimension` floats each.
    public var components: [[Float]]
    /// The standard deviation of the sample along each component.
    public var scales: [Double]
    /// The sample: each image's coordinates on the components, divided by `scales`.
    public var sample: [[Double]]
    public var classNames: [String]
    /// Share of each class among the top-1 answers on the test split.
    public var classShares: [Double]
    /// Mean top-1 probability on the test split.
    public var meanConfidence: Double
    public var testImages: Int

    public init(
        dimension: Int, mean: [Float], components: [[Float]], scales: [Double], sample: [[Double]], classNames: [String],
        classShares: [Double], meanConfidence: Double, testImages: Int
    ) {
        self.dimension = dimension
        self.mean = mean
        self.components = components
        self.scales = scales
        self.sample = sample
        self.classNames = classNames
        self.classShares = classShares
        self.meanConfidence = meanConfidence
        self.testImages = testImages
    }

    /// Builds the reference from `embeddings` (`count * dimension` floats, training images) and
    /// the test split's class probabilities (`testCount * classNames.count`).
    public static func build(embeddings: [Float], dimension: Int, testProbabilities: [Double], classNames: [String], seed: UInt64)
        -> DriftReference
    {
        let count = embeddings.count / max(dimension, 1)
        var random = SeededRandom(seed, 0x6472_6966_74)  // "drift"
        let rows = Array((0..<count).shuffled(using: &random).prefix(sampleLimit)).sorted()
        var mean = [Double](repeating: 0, count: dimension)
        for row in rows {
            for column in 0..<dimension { mean[column] += Double(embeddings[row * dimension + column]) }
        }
        mean = mean.map { $0 / Double(max(rows.count, 1)) }
        let centred = rows.map { row in (0..<dimension).map { Double(embeddings[row * dimension + $0]) - mean[$0] } }
        let components = PrincipalComponents.top(
            min(componentCount, dimension, max(rows.count - 1, 1)), of: centred, dimension: dimension, random: &random)
        let projected = centred.map { vector in components.map { dot($0, vector) } }
        let scales = components.indices.map { index in
            max(sqrt(projected.reduce(0) { $0 + $1[index] * $1[index] } / Double(max(projected.count - 1, 1))), 1e-12)
        }
        let classes = classNames.count
        let testCount = testProbabilities.count / max(classes, 1)
        var shares = [Double](repeating: 0, count: classes)
        var confidence = 0.0
        for image in 0..<testCount {
            let row = testProbabilities[(image * classes)..<((image + 1) * classes)]
            guard let best = row.indices.max(by: { row[$0] < row[$1] }) else { continue }
            shares[best - row.startIndex] += 1
            confidence += row[best]
        }
        return DriftReference(
            dimension: dimension, mean: mean.map(Float.init), components: components.map { $0.map(Float.init) },
            scales: scales, sample: projected.map { zip($0, scales).map { $0 / $1 } }, classNames: classNames,
            classShares: shares.map { $0 / Double(max(testCount, 1)) },
            meanConfidence: testCount > 0 ? confidence / Double(testCount) : 0, testImages: testCount)
    }

    /// The standardised coordinates of one embedding on the components.
    public func project(_ embedding: ArraySlice<Float>) -> [Double] {
        let start = embedding.startIndex
        return components.indices.map { index in
            var sum = 0.0
            for column in 0..<dimension {
                sum += Double(components[index][column]) * (Double(embedding[start + column]) - Double(mean[column]))
            }
            return sum / scales[index]
        }
    }

    /// Reads the reference of the package in `directory`; nil when it has none (a network
    /// imported, not trained here, or fine-tuned).
    public static func load(packageDirectory directory: URL) throws(ServiceError) -> DriftReference? {
        let file = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        do {
            return try JSONDecoder().decode(DriftReference.self, from: Data(contentsOf: file))
        } catch {
            throw .failed("\(file.path) is not a readable drift reference: \(error.localizedDescription)")
        }
    }

    /// Writes the reference into a package folder.
    func write(packageDirectory directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try encoder.encode(self).write(to: directory.appendingPathComponent(Self.fileName), options: .atomic)
    }

    private static func dot(_ first: [Double], _ second: [Double]) -> Double {
        zip(first, second).reduce(0) { $0 + $1.0 * $1.1 }
    }
}

/// The top principal directions of centred rows, by block power iteration on their covariance.
enum PrincipalComponents {
    static func top(_ count: Int, of rows: [[Double]], dimension: Int, random: inout SeededRandom, iterations: Int = 60)
        -> [[Double]]
    {
        guard !rows.isEmpty, dimension > 0 else { return [] }
        var basis = orthonormal((0..<count).map { _ in (0..<dimension).map { _ in Double.random(in: -1...1, using: &random) } })
        for _ in 0..<iterations {
            // basis ← Xᵀ X basis, then orthonormalised.
            var next = [[Double]](repeating: [Double](repeating: 0, count: dimension), count: basis.count)
            for row in rows {
                for (index, direction) in basis.enumerated() {
                    var coordinate = 0.0
                    for column in 0..<dimension { coordinate += row[column] * direction[column] }
                    for column in 0..<dimension { next[index][column] += coordinate * row[column] }
                }
            }
            basis = orthonormal(next)
        }
        // Order by the variance each direction explains.
        let variance = basis.map { direction in
            rows.reduce(0.0) { sum, row in
                let c = zip(row, direction).reduce(0) { $0 + $1.0 * $1.1 }
                return sum + c * c
            }
        }
        return basis.indices.sorted { variance[$0] > variance[$1] }.map { basis[$0] }
    }

    /// Modified Gram-Schmidt.
    static func orthonormal(_ vectors: [[Double]]) -> [[Double]] {
        var result: [[Double]] = []
        for vector in vectors {
            var v = vector
            for done in result {
                let projection = zip(v, done).reduce(0) { $0 + $1.0 * $1.1 }
                for index in v.indices { v[index] -= projection * done[index] }
            }
            let norm = sqrt(v.reduce(0) { $0 + $1 * $1 })
            result.append(norm > 1e-12 ? v.map { $0 / norm } : v)
        }
        return result
    }
}
