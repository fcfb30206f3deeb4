import FishImaging
import FishNeural
import FishStore
import Foundation

/// Imports pretrained checkpoints as registered model versions.
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

    private let context: ServiceContext

    public init(context: ServiceContext) {
        self.context = context
    }

    /// Reads an EfficientNet-Lite ImageNet checkpoint (PyTorch legacy or zip, or safetensors),
    /// finds which member of the family it is, checks every tensor against that architecture, and
    /// registers it as a new version of `name` (default `imagenet-lite0`, `imagenet-lite1`, ... by
    /// member) with its package, whose preprocessing has the member's input size. Importing the
    /// same file twice reuses the existing version.
    public func importImageNetWeights(path: String, name: String? = nil) throws -> ImportResult {
        let tensors = try CheckpointReader.read(path: path)
        let (network, weights, classes) = try EfficientNetLite.validate(tensors)
        let name = name ?? FishConfig.baseModelName(network)
        let classNames = ImageNetClasses.names
        guard classes == classNames.count else {
            throw ServiceError.invalidArgument(
                "\(path): the classifier has \(classes) outputs; the ImageNet base model needs \(classNames.count)")
        }
        let sourceSha256 = ModelPackage.sha256(try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe))
        // One import at a time: two imports of one file must find each other's version.
        try FileManager.default.createDirectory(at: context.config.modelsDirectory, withIntermediateDirectories: true)
        return try FileLock.holding(context.config.modelsDirectory.appendingPathComponent(".import.lock")) {
            try register(
                weights, network: network, classNames: classNames, name: name, path: path, sourceSha256: sourceSha256)
        }
    }

    private func register(
        _ weights: [String: HostTensor], network: EfficientNetLite, classNames: [String], name: String, path: String,
        sourceSha256: String
    ) throws -> ImportResult {
        let registered = try context.store.models().contains { $0.name == name } ? try context.store.versions(model: name) : []
        for version in registered.reversed() {
            if let package = try? ModelPackage.open(context.packageDirectory(version.packagePath)),
                package.metadata.sourceSha256 == sourceSha256
            {
                return ImportResult(
                    name: name, version: version.version, directory: package.directory.path,
                    weightsSha256: package.metadata.weightsSha256, sourceSha256: sourceSha256, created: false)
            }
        }
        let source = URL(fileURLWithPath: path).lastPathComponent
        var written: ModelPackage?
        let version = try context.store.registerVersion(model: name, actor: context.actor, reason: "imported \(source)") {
            version in
            let relative = PackageFolders.relativePath(model: name, version: version)
            let directory = context.packageDirectory(relative)
            try PackageFolders.makeRoom(at: directory)
            let metadata = ModelPackage.Metadata(
                name: name, version: version, architecture: network.name, weightsSha256: "",
                preprocessing: .efficientNetLite(inputSize: network.inputSize), classNames: classNames, createdAt: Date(),
                source: source,
                sourceSha256: sourceSha256)
            let package = try ModelPackage.write(tensors: weights, metadata: metadata, to: directory)
            written = package
            return (package.metadata.weightsSha256, relative)
        }
        guard let written else { throw ServiceError.failed("the package of \(name) v\(version.version) was not written") }
        return ImportResult(
            name: name, version: version.version, directory: written.directory.path,
            weightsSha256: written.metadata.weightsSha256, sourceSha256: sourceSha256, created: true)
    }
}
