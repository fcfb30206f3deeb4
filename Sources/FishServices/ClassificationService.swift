import Dispatch
import FishImaging
import FishNeural
import Foundation

/// Classifies image files with a model package: decode and preprocess in parallel, then one
/// batched forward pass per group of files.
public struct ClassificationService: Sendable {
    /// The model that produced a result.
    public struct ModelReference: Sendable, Codable, Equatable {
        public let name: String
        public let version: Int
    }

    /// The result for one file: its top classes, or why it could not be classified.
    public struct FileResult: Sendable {
        public let file: String
        public let model: ModelReference
        public let outcome: Result<[Prediction], FileError>
        /// Decode, preprocessing and this file's share of the batch's forward pass.
        public let milliseconds: Double
        /// The image shrunk for a preview, when one was asked for and the file decoded.
        public let thumbnail: Thumbnail?
        /// The backbone's embedding of the image, when asked for and the file was classified.
        public var embedding: [Float]?
    }

    /// Why one file failed.
    public struct FileError: Error, Sendable, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Extensions of the files taken from folders; files named directly are always tried.
    public static let imageExtensions: Set<String> = ["jpg", "jpeg", "jpe", "png"]

    private let context: ServiceContext
    private var config: FishConfig { context.config }

    public init(context: ServiceContext) {
        self.context = context
    }

    /// Loads `name` (default: the configured model) at `version` (default: the version its
    /// `production` alias points at, else its latest), with its backbone when it is a trained head.
    /// `threads` overrides the configured thread count. A `models:/NAME@ALIAS` or `models:/NAME/VERSION`
    /// name loads the version from the MLflow registry (downloaded into the cache once).
    public func loadModel(name: String? = nil, version: Int? = nil, threads: Int? = nil) throws -> LoadedModel {
        let name = name ?? config.defaultModel
        if let uri = try MLflowModelURI.parse(name) {
            guard version == nil else { throw ServiceError.invalidArgument("\(uri) names its version itself") }
            let models = try MLflowModels(context: context)
            return try models.load(try models.current(uri), threads: threads ?? config.threads)
        }
        let registry = RegistryService(context: context)
        let resolved = try registry.resolve(model: name, version: version)
        let backbone = try resolved.package.metadata.backbone.map {
            try registry.resolve(model: $0.model, version: $0.version).package
        }
        return try LoadedModel(package: resolved.package, backbone: backbone, threads: threads ?? config.threads)
    }

    /// A path given to classify that yields no image: missing, unreadable, or a folder without images.
    public struct UnusablePath: Sendable, Equatable {
        public let path: String
        /// The whole message, starting with the path.
        public let message: String
    }

    /// Expands `paths`: files as given, folders recursively (image files only, sorted). Paths
    /// that do not exist or cannot be read, and folders holding no image, are returned with why.
    public func collectFiles(_ paths: [String]) -> (files: [String], unusable: [UnusablePath]) {
        var files: [String] = []
        var unusable: [UnusablePath] = []
        let manager = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                unusable.append(UnusablePath(path: path, message: "\(path): \(Self.whyUnreachable(path))"))
                continue
            }
            guard isDirectory.boolValue else {
                files.append(path)
                continue
            }
            guard let enumerator = manager.enumerator(atPath: path), (try? manager.contentsOfDirectory(atPath: path)) != nil
            else {
                unusable.append(
                    UnusablePath(path: path, message: "\(path): cannot read the folder (\(Self.whyUnreachable(path)))"))
                continue
            }
            let found = (enumerator.allObjects as? [String] ?? [])
                .filter { Self.imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
                .sorted()
                .map { (path as NSString).appendingPathComponent($0) }
            if found.isEmpty {
                unusable.append(UnusablePath(path: path, message: "\(path): no .jpg, .jpeg or .png files in this folder"))
            }
            files.append(contentsOf: found)
        }
        return (files, unusable)
    }

    /// Why `path` cannot be reached, as the system says it: "no such file or directory",
    /// "permission denied", "too many levels of symbolic links".
    static func whyUnreachable(_ path: String) -> String {
        var status = stat()
        if stat(path, &status) == 0 {
            return access(path, R_OK) == 0 ? "unreadable" : String(cString: strerror(EACCES)).lowercased()
        }
        return String(cString: strerror(errno)).lowercased()
    }

    /// Classifies `files` with `model`, calling `report` once per file in order; with `thumbnails`,
    /// each result carries its image shrunk to fit that size (from the same decode), and with
    /// `embeddings`, the backbone's embedding of the image.
    public func classify(
        files: [String], model: LoadedModel, top: Int, batchSize: Int = 16,
        thumbnails: (maxWidth: Int, maxHeight: Int)? = nil, embeddings: Bool = false, report: (FileResult) -> Void
    ) {
        let decoder = ImageDecoder(maxPixels: config.maxPixels)
        let reference = model.reference
        let preprocessing = model.metadata.preprocessing
        let floatsPerImage = model.inputFloats
        var start = 0
        while start < files.count {
            let group = Array(files[start..<min(start + batchSize, files.count)])
            start += group.count
            var input = [Float](repeating: 0, count: group.count * floatsPerImage)
            var failures = [String?](repeating: nil, count: group.count)
            var seconds = [Double](repeating: 0, count: group.count)
            var shrunk = [Thumbnail?](repeating: nil, count: group.count)
            input.withUnsafeMutableBufferPointer { tensor in
                failures.withUnsafeMutableBufferPointer { failed in
                    seconds.withUnsafeMutableBufferPointer { elapsed in
                        shrunk.withUnsafeMutableBufferPointer { thumbnail in
                            Parallel.forEach(group.count, threads: config.threads) { index in
                                let began = DispatchTime.now()
                                do {
                                    let image = try decoder.decodeFile(atPath: group[index])
                                    let slot = UnsafeMutableBufferPointer(
                                        rebasing: tensor[(index * floatsPerImage)..<((index + 1) * floatsPerImage)])
                                    preprocessing.writeTensor(of: image, into: slot)
                                    if let thumbnails {
                                        thumbnail[index] = Thumbnail(
                                            image, maxWidth: thumbnails.maxWidth, maxHeight: thumbnails.maxHeight)
                                    }
                                } catch {
                                    failed[index] = "\(error)"
                                }
                                elapsed[index] = Self.seconds(since: began)
                            }
                        }
                    }
                }
            }
            let decoded = group.indices.filter { failures[$0] == nil }
            var output: InferenceEngine.Output?
            var forwardSeconds = 0.0
            if !decoded.isEmpty {
                let compact =
                    decoded.count == group.count
                    ? input
                    : decoded.flatMap {
                        input[($0 * floatsPerImage)..<(($0 + 1) * floatsPerImage)]
                    }
                let began = DispatchTime.now()
                output = model.forward(compact, count: decoded.count)
                forwardSeconds = Self.seconds(since: began) / Double(decoded.count)
            }
            for (index, file) in group.enumerated() {
                let outcome: Result<[Prediction], FileError>
                if let message = failures[index] {
                    outcome = .failure(FileError(message: message))
                } else if let output, let position = decoded.firstIndex(of: index) {
                    outcome =
                        model.predictions(output, image: position, top: top).map { .success($0) }
                        ?? .failure(FileError(message: "\(file): \(model.nonFiniteMessage)"))
                } else {
                    outcome = .failure(FileError(message: "\(file): not classified"))
                }
                let share = failures[index] == nil ? forwardSeconds : 0
                var result = FileResult(
                    file: file, model: reference, outcome: outcome,
                    milliseconds: (seconds[index] + share) * 1000, thumbnail: shrunk[index])
                if embeddings, let output, let position = decoded.firstIndex(of: index), case .success = outcome {
                    let width = output.embeddings.count / decoded.count
                    result.embedding = Array(output.embeddings[(position * width)..<((position + 1) * width)])
                }
                report(result)
            }
        }
    }

    private static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
