import Crypto
public import FishImaging
public import Foundation

/// A self-describing model version on disk: `weights.safetensors` plus `model.json` metadata.
/// Loading a package needs nothing else.
public struct ModelPackage: Sendable {
    /// The JSON metadata of a package.
    public struct Metadata: Codable, Sendable, Equatable {
        public var formatVersion: Int = 1
        public var name: String
        public var version: Int
        public var architecture: String
        /// sha256 of `weights.safetensors`, checked on every load.
        public var weightsSha256: String
        public var preprocessing: Preprocessing
        public var classNames: [String]
        public var createdAt: Date
        /// Where the weights came from (a checkpoint file, a training run).
        public var source: String
        /// sha256 of the file the weights were imported from, when imported.
        public var sourceSha256: String?
        /// For a trained head: the registered backbone whose embeddings it classifies. The
        /// package's weights are then the head's alone.
        public var backbone: BackboneReference?
        /// The training run that produced the package.
        public var trainingRunId: String?
        /// Test-split metrics and the fingerprint of the data they were measured on.
        public var metrics: [String: Double]?
        public var evaluationData: String?

        public init(
            name: String, version: Int, architecture: String, weightsSha256: String,
            preprocessing: Preprocessing, classNames: [String], createdAt: Date, source: String,
            sourceSha256: String?
        ) {
            self.name = name
            self.version = version
            self.architecture = architecture
            self.weightsSha256 = weightsSha256
            self.preprocessing = preprocessing
            self.classNames = classNames
            self.createdAt = createdAt
            self.source = source
            self.sourceSha256 = sourceSha256
        }
    }

    /// A registered backbone version, pinned by its weights' hash.
    public struct BackboneReference: Codable, Sendable, Equatable {
        public var model: String
        public var version: Int
        public var weightsSha256: String

        public init(model: String, version: Int, weightsSha256: String) {
            self.model = model
            self.version = version
            self.weightsSha256 = weightsSha256
        }
    }

    public static let metadataFile = "model.json"
    public static let weightsFile = "weights.safetensors"

    public let directory: URL
    public let metadata: Metadata

    /// Reads the metadata of the package in `directory`.
    public static func open(_ directory: URL) throws(NeuralError) -> ModelPackage {
        let file = directory.appendingPathComponent(metadataFile)
        do {
            let data = try Data(contentsOf: file)
            let metadata = try decoder.decode(Metadata.self, from: data)
            if let problem = metadata.preprocessing.problem {
                throw NeuralError.invalidPackage(path: directory.path, reason: "preprocessing: \(problem)")
            }
            return ModelPackage(directory: directory, metadata: metadata)
        } catch let error as NeuralError {
            throw error
        } catch {
            throw .invalidPackage(path: directory.path, reason: "\(metadataFile): \(error)")
        }
    }

    /// Reads the weights, checking them against the sha256 in the metadata.
    public func loadWeights() throws(NeuralError) -> [String: HostTensor] {
        try SafeTensors.decode(try verifiedWeights(), path: directory.appendingPathComponent(Self.weightsFile).path).tensors
    }

    /// The weights file's bytes, checked against the sha256 in the metadata.
    public func verifiedWeights() throws(NeuralError) -> Data {
        let data: Data
        do { data = try Data(contentsOf: directory.appendingPathComponent(Self.weightsFile)) } catch {
            throw .invalidPackage(path: directory.path, reason: "cannot read \(Self.weightsFile)")
        }
        guard Self.sha256(data) == metadata.weightsSha256 else {
            throw .invalidPackage(path: directory.path, reason: "\(Self.weightsFile) does not match its sha256")
        }
        return data
    }

    /// Writes a package atomically: into a temporary sibling folder, then renamed to `directory`.
    /// `metadata.weightsSha256` is filled in here. Fails if `directory` already exists.
    public static func write(tensors: [String: HostTensor], metadata: Metadata, to directory: URL) throws -> ModelPackage {
        let files = FileManager.default
        let parent = directory.deletingLastPathComponent()
        try files.createDirectory(at: parent, withIntermediateDirectories: true)
        let staging = parent.appendingPathComponent(".tmp-\(directory.lastPathComponent)-\(UUID().uuidString)")
        try files.createDirectory(at: staging, withIntermediateDirectories: false)
        do {
            let weights = try SafeTensors.encode(tensors, metadata: ["format": "pt"])
            var finished = metadata
            finished.weightsSha256 = sha256(weights)
            try weights.write(to: staging.appendingPathComponent(weightsFile))
            try encoder.encode(finished).write(to: staging.appendingPathComponent(metadataFile))
            guard rename(staging.path, directory.path) == 0 else {
                throw CocoaError(.fileWriteFileExists, userInfo: [NSFilePathErrorKey: directory.path])
            }
            return ModelPackage(directory: directory, metadata: finished)
        } catch {
            try? files.removeItem(at: staging)
            throw error
        }
    }

    /// The lowercase hex sha256 of `data`.
    public static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }()

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
