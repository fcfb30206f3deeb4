import FishImaging
import FishNeural
public import Foundation

/// Why an image cannot be a model's input, by kind (the HTTP API maps each kind to a status).
public struct ImageInputError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// More pixels than the configured limit.
        case tooManyPixels
        /// One side over 100 times the other.
        case badShape
        /// A JPEG or PNG that is truncated or damaged.
        case corrupt
        /// Not a JPEG or PNG, or empty.
        case unsupported
    }

    public let kind: Kind
    public let message: String
    public var description: String { message }

    init(_ error: ImagingError) {
        message = "\(error)"
        switch error {
        case .tooLarge: kind = .tooManyPixels
        case .badShape: kind = .badShape
        case .corrupt: kind = .corrupt
        default: kind = .unsupported
        }
    }
}

/// The steps of classification one at a time, for callers that batch across requests (the HTTP
/// API): prepare an input, run a batch of inputs, read one image's classes.
extension LoadedModel {
    /// The model's name and version, as results name it.
    public var reference: ClassificationService.ModelReference { .init(name: name, version: version) }

    /// The class names, in output order.
    public var classNames: [String] { metadata.classNames }
    /// The test-split metrics recorded in the package (empty when none were).
    public var recordedMetrics: [String: Double] { metadata.metrics ?? [:] }

    /// Whether two loaded models are the same version with the same weights (and so can share a batch).
    public func serves(as other: LoadedModel) -> Bool {
        name == other.name && version == other.version && metadata.weightsSha256 == other.metadata.weightsSha256
    }

    /// `data` (a JPEG or PNG) decoded and preprocessed into this model's input of `inputFloats` floats.
    public func input(fromImage data: Data, name: String, maxPixels: Int) throws(ImageInputError) -> [Float] {
        let image: RGBImage
        do { image = try ImageDecoder(maxPixels: maxPixels).decode(data, name: name) } catch { throw ImageInputError(error) }
        var input = [Float](repeating: 0, count: inputFloats)
        input.withUnsafeMutableBufferPointer { metadata.preprocessing.writeTensor(of: image, into: $0) }
        return input
    }

    /// The scores (`count * classes` floats) and the backbone's embeddings (`count *
    /// embeddingWidth`) of `count` prepared inputs, on at most `threads` threads.
    public func scores(_ inputs: UnsafeBufferPointer<Float>, count: Int, threads: Int? = nil) -> (
        logits: [Float], embeddings: [Float]
    ) {
        let output = forward(inputs, count: count, threads: threads)
        return (output.logits, output.embeddings)
    }

    /// The `top` most probable classes of one image's scores, or nil when they are NaN or infinite.
    public func topPredictions(_ logits: some Collection<Float>, top: Int) -> [Prediction]? {
        guard logits.allSatisfy(\.isFinite) else { return nil }
        return Softmax.top(top, logits: logits, labels: metadata.classNames)
    }

    /// One forward pass on a blank image, so the first request does not pay for the first touch
    /// of the weights; fails when the weights give non-finite scores.
    public func warmUp() throws {
        let scores = forward([Float](repeating: 0, count: inputFloats), count: 1).logits
        guard scores.allSatisfy(\.isFinite) else { throw ServiceError.failed(nonFiniteMessage) }
    }
}
