import FishImaging
import FishNeural
import FishRecords
import FishTestSupport
import Foundation
import Testing

/// Lite1 and Lite2 against `Tests/Reference/efficientnet_lite.py`, a float64 numpy implementation
/// written from the published architecture; the script itself is first checked against the shared
/// Lite0 outputs of another independent implementation.
@Suite(
    .enabled(if: Fixtures.sharedAvailable, "needs ../shared/reference"),
    .enabled(if: Fixtures.pythonHas("numpy"), "needs Python with numpy (make bench-setup)"))
struct LiteFamilyReferenceTests {
    struct ReferenceOutput: Decodable {
        let logits: [[Double]]
        let embeddings: [[Double]]
    }

    static let script = Fixtures.root.appendingPathComponent("Tests/Reference/efficientnet_lite.py")
    static let images = ["chelsea.png", "coffee.png", "flower.png", "rocket.png"]

    /// The four reference photos preprocessed for a `size` x `size` input, NHWC.
    static func input(size: Int) throws -> [Float] {
        let preprocessing = Preprocessing.efficientNetLite(inputSize: size)
        let floats = size * size * 3
        var input = [Float](repeating: 0, count: images.count * floats)
        for (index, name) in images.enumerated() {
            let image = try ImageDecoder().decodeFile(
                atPath: Fixtures.shared.appendingPathComponent("reference/images/\(name)").path)
            input.withUnsafeMutableBufferPointer { all in
                preprocessing.writeTensor(
                    of: image, into: UnsafeMutableBufferPointer(rebasing: all[(index * floats)..<((index + 1) * floats)]))
            }
        }
        return input
    }

    /// What the numpy script computes for `input` with `checkpoint` as member `member`.
    static func reference(checkpoint: URL, member: Int, input: [Float], size: Int) throws -> ReferenceOutput {
        let file = try Fixtures.temporaryDirectory().appendingPathComponent("input.f32")
        try input.withUnsafeBytes { try Data($0).write(to: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Fixtures.python))
        process.arguments = [
            script.path, checkpoint.path, "\(member)", file.path, "\(images.count)", "\(size)",
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "the numpy reference failed")
        return try JSONDecoder().decode(ReferenceOutput.self, from: printed)
    }

    @Test(.enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"))
    func theNumpyReferenceReproducesTheSharedLite0Outputs() throws {
        let expectations = try ReferenceTests.expectations()
        #expect(expectations.map(\.file) == Self.images)
        let reference = try Self.reference(
            checkpoint: Fixtures.weights, member: 0, input: try Self.input(size: 224), size: 224)
        for (index, expected) in expectations.enumerated() {
            let logits = reference.logits[index].map { Float($0) }
            #expect(Softmax.top(5, logits: logits, labels: []).map(\.index) == expected.top5, "\(expected.file)")
            let probabilities = Softmax.probabilities(logits[...])
            for (rank, classIndex) in expected.top5.enumerated() {
                #expect(abs(probabilities[classIndex] - expected.probabilities[rank]) <= 1e-5, "\(expected.file)")
            }
            for (value, shared) in zip(reference.embeddings[index], expected.embedding) {
                #expect(abs(value - shared) <= 1e-4, "\(expected.file): embedding")
            }
        }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: Fixtures.weights(lite: 1).path), "needs make weights-lite1"))
    func lite1MatchesTheNumpyReference() throws {
        try Self.engineMatchesReference(member: 1, architecture: .lite1)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: Fixtures.weights(lite: 2).path), "needs make weights-lite2"))
    func lite2MatchesTheNumpyReference() throws {
        try Self.engineMatchesReference(member: 2, architecture: .lite2)
    }

    /// The engine's top-5, probabilities and whole embedding within the tolerances of the Lite0
    /// reference (`../shared/reference/README.md`), on one thread and on two.
    static func engineMatchesReference(member: Int, architecture: EfficientNetLite) throws {
        let checkpoint = Fixtures.weights(lite: member)
        let size = architecture.inputSize
        let input = try input(size: size)
        let reference = try reference(checkpoint: checkpoint, member: member, input: input, size: size)
        for threads in [1, 2] {
            let engine = try InferenceEngine(tensors: try CheckpointReader.read(path: checkpoint.path), threads: threads)
            #expect(engine.architecture == architecture)
            let output = input.withUnsafeBufferPointer { engine.forward($0, batch: images.count) }
            for (index, name) in images.enumerated() {
                let logits = output.logits[(index * 1000)..<((index + 1) * 1000)]
                let expected = reference.logits[index].map { Float($0) }
                #expect(
                    Softmax.top(5, logits: logits, labels: []).map(\.index)
                        == Softmax.top(5, logits: expected, labels: []).map(\.index), "\(name): top-5")
                let largest =
                    zip(Softmax.probabilities(logits), Softmax.probabilities(expected[...])).map { abs($0 - $1) }
                    .max() ?? 0
                #expect(largest <= 1e-4, "\(name): |probability difference| \(largest)")
                let embedding = output.embeddings[(index * 1280)..<((index + 1) * 1280)]
                let drift = zip(embedding, reference.embeddings[index]).map { abs(Double($0) - $1) }.max() ?? 0
                #expect(drift <= 1e-3, "\(name): |embedding difference| \(drift)")
            }
        }
    }
}
