import FishNeural
import Foundation

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

    /// The ONNX model of `model` (default: the configured model, its production or latest version).
    public func onnx(model: String? = nil, version: Int? = nil) throws -> Data {
        let resolved = try RegistryService(context: context).resolve(model: model ?? context.config.defaultModel, version: version)
        let network = try FoldedNetwork(tensors: try resolved.package.loadWeights())
        return ONNXExporter.export(network, inputSize: resolved.package.metadata.preprocessing.inputSize,
                                   modelName: "\(resolved.version.model)-v\(resolved.version.version)")
    }

    /// Writes `data` to `path` atomically (temporary file, then rename).
    public static func write(_ data: Data, to path: String) throws {
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
