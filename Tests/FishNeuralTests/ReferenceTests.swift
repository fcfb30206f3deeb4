import FishImaging
import FishNeural
import FishRecords
import FishTestSupport
import Foundation
import Testing

/// The engine against `../shared/reference/expected.json`: an independent float64 implementation.
@Suite(
    .enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"),
    .enabled(if: Fixtures.sharedAvailable, "needs ../shared/reference"))
struct ReferenceTests {
    struct Expected {
        let file: String
        let top5: [Int]
        let probabilities: [Double]
        let embedding: [Double]
    }

    static func expectations() throws -> [Expected] {
        let data = try Data(contentsOf: Fixtures.shared.appendingPathComponent("reference/expected.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let files = try #require(root["files"] as? [String: [String: Any]])
        return try files.keys.sorted().map { name in
            let entry = try #require(files[name])
            return Expected(
                file: name, top5: try #require(entry["top5_indices"] as? [Int]),
                probabilities: try #require(entry["top5_probs"] as? [Double]),
                embedding: try #require(entry["embedding_first8"] as? [Double]))
        }
    }

    @Test func matchesTheIndependentImplementation() throws {
        let engine = try InferenceEngine(tensors: try CheckpointReader.read(path: Fixtures.weights.path), threads: 2)
        let expectations = try Self.expectations()
        #expect(expectations.count == 4)
        #expect(expectations.map(\.file) == LiteFamilyReferenceTests.images)
        let input = try LiteFamilyReferenceTests.input(size: 224)
        let output = input.withUnsafeBufferPointer { engine.forward($0, batch: expectations.count) }
        for (index, expected) in expectations.enumerated() {
            let logits = output.logits[(index * 1000)..<((index + 1) * 1000)]
            let probabilities = Softmax.probabilities(logits)
            let top5 = Softmax.top(5, logits: logits, labels: []).map(\.index)
            #expect(top5 == expected.top5, "\(expected.file): top-5 indices")
            for (rank, classIndex) in expected.top5.enumerated() {
                #expect(
                    abs(probabilities[classIndex] - expected.probabilities[rank]) <= 1e-4, "\(expected.file): p[\(classIndex)]")
            }
            let embedding = output.embeddings[(index * 1280)..<(index * 1280 + 8)]
            for (value, reference) in zip(embedding, expected.embedding) {
                #expect(abs(Double(value) - reference) <= 1e-3, "\(expected.file): embedding")
            }
        }
    }

    /// One thread runs the four images as one group through the late blocks, two threads as two
    /// groups of two; a single image runs alone on both threads.
    @Test(arguments: [1, 2]) func batchingDoesNotChangeResults(threads: Int) throws {
        let engine = try InferenceEngine(tensors: try CheckpointReader.read(path: Fixtures.weights.path), threads: threads)
        let input = try LiteFamilyReferenceTests.input(size: 224)
        let batched = input.withUnsafeBufferPointer { engine.forward($0, batch: 4) }
        let floats = 224 * 224 * 3
        for index in 0..<4 {
            let single = input.withUnsafeBufferPointer {
                engine.forward(UnsafeBufferPointer(rebasing: $0[(index * floats)..<((index + 1) * floats)]), batch: 1)
            }
            let difference = largestDifference(zip(single.logits, batched.logits[(index * 1000)..<((index + 1) * 1000)]))
            #expect(difference < 1e-4)
        }
    }
}
