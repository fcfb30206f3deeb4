import FishImaging
import FishNeural
import Foundation

/// Imports pretrained checkpoints as model packages.
public struct WeightsService: Sendable {
    /// What an import did.
    public struct ImportResult: Sendable, Codable {
        public let name: String
        public let version: Int
        public let directory: String
        public let weightsSha256: String
        public let sourceSha256: String
        /// False when the same file had been imported before and that version was reused.
        public let created: Bool
    }

    private let config: FishConfig
    private let library: ModelLibrary

    public init(config: FishConfig) {
        self.config = config
        library = ModelLibrary(config: config)
    }

    /// Reads an EfficientNet-Lite0 ImageNet checkpoint (PyTorch legacy or zip, or safetensors),
    /// checks every tensor against the architecture and writes the base model package.
    /// Importing the same file twice reuses the existing version.
    public func importImageNetWeights(path: String, name: String = FishConfig.baseModelName) throws -> ImportResult {
        let tensors = try CheckpointReader.read(path: path)
        let (weights, classes) = try EfficientNetLite0.validate(tensors)
        let classNames = ImageNetClasses.names
        guard classes == classNames.count else {
            throw ServiceError.invalidArgument(
                "\(path): the classifier has \(classes) outputs; the ImageNet base model needs \(classNames.count)")
        }
        let sourceSha256 = try sha256(ofFile: path)
        for version in library.versions(of: name).reversed() {
            if let existing = try? library.package(named: name, version: version),
               existing.metadata.sourceSha256 == sourceSha256 {
                return ImportResult(name: name, version: version, directory: existing.directory.path,
                                    weightsSha256: existing.metadata.weightsSha256, sourceSha256: sourceSha256, created: false)
            }
        }
        let version = (library.versions(of: name).last ?? 0) + 1
        let metadata = ModelPackage.Metadata(
            name: name, version: version, architecture: EfficientNetLite0.name, weightsSha256: "",
            preprocessing: .efficientNetLite, classNames: classNames, createdAt: Date(),
            source: URL(fileURLWithPath: path).lastPathComponent, sourceSha256: sourceSha256)
        let package = try ModelPackage.write(tensors: weights, metadata: metadata,
                                             to: library.directory(name: name, version: version))
        return ImportResult(name: name, version: version, directory: package.directory.path,
                            weightsSha256: package.metadata.weightsSha256, sourceSha256: sourceSha256, created: true)
    }

    private func sha256(ofFile path: String) throws -> String {
        ModelPackage.sha256(try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe))
    }
}
