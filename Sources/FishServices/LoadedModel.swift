import FishImaging
import FishNeural
import Foundation

/// A model package loaded and ready to run.
public struct LoadedModel: Sendable {
    public let metadata: ModelPackage.Metadata
    public let engine: InferenceEngine

    public var name: String { metadata.name }
    public var version: Int { metadata.version }

    /// Loads `package`, checking its weights' hash and shapes.
    public init(package: ModelPackage, threads: Int) throws {
        let weights = try package.loadWeights()
        engine = try InferenceEngine(tensors: weights, threads: threads)
        guard engine.classes == package.metadata.classNames.count else {
            throw NeuralError.invalidPackage(path: package.directory.path, reason:
                "\(engine.classes) outputs but \(package.metadata.classNames.count) class names")
        }
        metadata = package.metadata
    }

    /// Floats in one preprocessed input image.
    public var inputFloats: Int { metadata.preprocessing.inputSize * metadata.preprocessing.inputSize * 3 }

    /// Runs preprocessed inputs (`count * inputFloats` floats) through the network.
    public func forward(_ input: [Float], count: Int) -> InferenceEngine.Output {
        input.withUnsafeBufferPointer { engine.forward($0, batch: count, size: metadata.preprocessing.inputSize) }
    }

    /// The `top` most probable classes for each image of a forward pass.
    public func predictions(_ output: InferenceEngine.Output, image: Int, top: Int) -> [Prediction] {
        let classes = engine.classes
        return Softmax.top(top, logits: output.logits[(image * classes)..<((image + 1) * classes)],
                           labels: metadata.classNames)
    }
}

/// One class and its probability (re-exported for the interfaces).
public typealias Prediction = FishNeural.Prediction
