import FishImaging
package import FishNeural
public import Foundation

/// A model package loaded and ready to run: a whole network, or a trained head on top of its
/// registered backbone.
public struct LoadedModel: Sendable {
    package let metadata: ModelPackage.Metadata
    package let engine: InferenceEngine
    /// The trained classifier applied to the backbone's embeddings; nil when the network's own
    /// classifier gives the classes.
    package let head: ClassifierHead?
    /// The package's folder (where its drift reference is, when it has one).
    public let packageDirectory: URL

    public var name: String { metadata.name }
    public var version: Int { metadata.version }
    public var classes: Int { head?.classes ?? engine.classes }

    /// Loads `package`, checking its weights' hash and shapes. A head package needs `backbone`,
    /// the package its metadata refers to.
    package init(package: ModelPackage, backbone: ModelPackage? = nil, threads: Int) throws {
        let weights = try package.loadWeights()
        if let reference = package.metadata.backbone {
            guard let backbone, backbone.metadata.weightsSha256 == reference.weightsSha256 else {
                throw NeuralError.invalidPackage(
                    path: package.directory.path,
                    reason:
                        "its backbone \(reference.model) v\(reference.version) is missing or has other weights")
            }
            engine = try InferenceEngine(tensors: try backbone.loadWeights(), threads: threads)
            let head = try ClassifierHead(tensors: weights)
            guard head.inputs == engine.embeddingWidth else {
                throw NeuralError.invalidPackage(
                    path: package.directory.path,
                    reason:
                        "the head takes \(head.inputs) features but the backbone gives \(engine.embeddingWidth)")
            }
            self.head = head
        } else {
            engine = try InferenceEngine(tensors: weights, threads: threads)
            head = nil
        }
        metadata = package.metadata
        packageDirectory = package.directory
        guard classes == metadata.classNames.count else {
            throw NeuralError.invalidPackage(
                path: package.directory.path,
                reason:
                    "\(classes) outputs but \(metadata.classNames.count) class names")
        }
    }

    /// Floats in one preprocessed input image.
    public var inputFloats: Int { metadata.preprocessing.inputSize * metadata.preprocessing.inputSize * 3 }

    /// Runs preprocessed inputs (`count * inputFloats` floats) through the network (and head).
    package func forward(_ input: [Float], count: Int) -> InferenceEngine.Output {
        input.withUnsafeBufferPointer { forward($0, count: count) }
    }

    /// Runs `count * inputFloats` preprocessed floats through the network (and head) on at most
    /// `threads` threads (default: the engine's).
    package func forward(_ input: UnsafeBufferPointer<Float>, count: Int, threads: Int? = nil) -> InferenceEngine.Output {
        let output = engine.forward(input, batch: count, size: metadata.preprocessing.inputSize, threads: threads)
        let logits = head.map { $0.logits(output.embeddings, count: count) } ?? output.logits
        return InferenceEngine.Output(logits: logits, embeddings: output.embeddings)
    }

    /// The `top` most probable classes for image `image` of a forward pass, or nil when the network
    /// gave it NaN or infinite scores (broken weights).
    package func predictions(_ output: InferenceEngine.Output, image: Int, top: Int) -> [Prediction]? {
        topPredictions(output.logits[(image * classes)..<((image + 1) * classes)], top: top)
    }

    /// Why a version gave no answer: the message for non-finite scores.
    public var nonFiniteMessage: String {
        "\(name) v\(version) produced non-finite scores; its weights are broken (re-import or roll back the model)"
    }
}
