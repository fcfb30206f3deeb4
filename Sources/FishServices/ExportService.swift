import FishImaging
import FishNeural
public import Foundation

/// Exports registered model versions for other runtimes.
public struct ExportService: Sendable {
    /// Formats `fishops export` writes.
    public enum Format: String, Sendable, CaseIterable {
        case onnx
    }

    private let context: ServiceContext

    public init(context: ServiceContext) {
        self.context = context
    }

    /// The ONNX model of `model` (default: the configured model, its production or latest version);
    /// a trained head is exported together with its backbone.
    public func onnx(model: String? = nil, version: Int? = nil) throws -> Data {
        let registry = RegistryService(context: context)
        let resolved = try registry.resolve(model: model ?? context.config.defaultModel, version: version)
        let metadata = resolved.package.metadata
        let network: FoldedNetwork
        let head: ClassifierHead?
        if let reference = metadata.backbone {
            let backbone = try registry.resolve(model: reference.model, version: reference.version).package
            guard backbone.metadata.weightsSha256 == reference.weightsSha256 else {
                throw NeuralError.invalidPackage(
                    path: resolved.package.directory.path,
                    reason:
                        "its backbone \(reference.model) v\(reference.version) has other weights than it was trained on")
            }
            network = try FoldedNetwork(tensors: try backbone.loadWeights())
            head = try ClassifierHead(tensors: try resolved.package.loadWeights())
        } else {
            network = try FoldedNetwork(tensors: try resolved.package.loadWeights())
            head = nil
        }
        return ONNXExporter.export(
            network, head: head, inputSize: metadata.preprocessing.inputSize,
            modelName: "\(resolved.version.model)-v\(resolved.version.version)")
    }

    /// Writes `data` to `path` atomically (temporary file, then rename).
    public static func write(_ data: Data, to path: String) throws {
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
