import FishMLflow
import FishNeural
public import Foundation

/// A model version in an MLflow registry, named as MLflow names it: `models:/NAME@ALIAS` (which
/// follows the alias) or `models:/NAME/VERSION` (MLflow's version number).
public struct MLflowModelURI: Sendable, Equatable, CustomStringConvertible {
    public enum Selector: Sendable, Equatable {
        case alias(String)
        case version(String)
    }

    public let name: String
    public let selector: Selector

    /// `text` as a `models:/` URI; nil when it is not one (a model of this store), an error when
    /// it is one but malformed.
    public static func parse(_ text: String) throws(ServiceError) -> MLflowModelURI? {
        guard text.hasPrefix("models:/") else { return nil }
        let rest = text.dropFirst("models:/".count)
        let usage = "\(text) is not a model URI: use models:/NAME@ALIAS or models:/NAME/VERSION"
        if let at = rest.firstIndex(of: "@") {
            let (name, alias) = (String(rest[..<at]), String(rest[rest.index(after: at)...]))
            guard !name.isEmpty, !alias.isEmpty, !name.contains("/"), !alias.contains("/") else { throw .invalidArgument(usage) }
            return MLflowModelURI(name: name, selector: .alias(alias))
        }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, let number = Int(parts[1]), number > 0 else { throw .invalidArgument(usage) }
        return MLflowModelURI(name: String(parts[0]), selector: .version(String(number)))
    }

    public var description: String {
        switch selector {
        case let .alias(alias): return "models:/\(name)@\(alias)"
        case let .version(version): return "models:/\(name)/\(version)"
        }
    }
}

/// FishOps model packages fetched from an MLflow registry into `$FISHOPS_HOME/cache/mlflow`,
/// checked against the sha256 the version carries: how a machine with no FishOps store serves and
/// classifies with the team's models.
struct MLflowModels {
    private let context: ServiceContext
    private let client: MLflowClient

    init(context: ServiceContext) throws(ServiceError) {
        guard let uri = context.config.mlflowURI else {
            throw .badConfiguration("a models:/ URI needs an MLflow server: set FISHOPS_MLFLOW_URI or mlflow_uri in fishops.conf")
        }
        self.context = context
        client = MLflowClient(MLflowSettings(uri: uri, environment: ProcessInfo.processInfo.environment))
    }

    /// The MLflow version `uri` names now.
    func current(_ uri: MLflowModelURI) throws -> MLflowModelVersion {
        switch uri.selector {
        case let .alias(alias): return try client.version(uri.name, alias: alias)
        case let .version(version): return try client.version(uri.name, number: version)
        }
    }

    /// Whether `remote` is the version `served` already is.
    static func isServed(_ remote: MLflowModelVersion, as served: LoadedModel?) -> Bool {
        guard let served, let sha = remote.tag(MLflowMirror.packageShaTag) else { return false }
        return served.metadata.weightsSha256 == sha && served.name == remote.name
    }

    /// `remote` loaded: its package, and the backbone a trained head refers to, from this store
    /// when it has that backbone, else from MLflow.
    func load(_ remote: MLflowModelVersion, threads: Int) throws -> LoadedModel {
        let package = try self.package(of: remote)
        guard let reference = package.metadata.backbone else { return try LoadedModel(package: package, threads: threads) }
        let backbone: ModelPackage
        if let local = try? RegistryService(context: context).resolve(model: reference.model, version: reference.version),
            local.package.metadata.weightsSha256 == reference.weightsSha256
        {
            backbone = local.package
        } else {
            let versions = try client.modelVersions(reference.model)
            guard let found = versions.first(where: { $0.tag(MLflowMirror.packageShaTag) == reference.weightsSha256 }) else {
                throw ServiceError.failed(
                    "\(remote.name) v\(remote.version) on MLflow needs the backbone \(reference.model) v\(reference.version), "
                        + "which neither this store nor \(client.baseURL) has: run `make setup` here, or mirror it")
            }
            backbone = try self.package(of: found)
        }
        return try LoadedModel(package: package, backbone: backbone, threads: threads)
    }

    /// The package of `remote`, downloaded unless the cache has it, with its weights checked.
    private func package(of remote: MLflowModelVersion) throws -> ModelPackage {
        guard let sha = remote.tag(MLflowMirror.packageShaTag), let source = remote.source,
            sha.count == 64, sha.allSatisfy(\.isHexDigit)
        else {
            throw ServiceError.failed(
                "\(remote.name) version \(remote.version) on \(client.baseURL) is not a FishOps model (no \(MLflowMirror.packageShaTag) tag)"
            )
        }
        let folder = cache.appendingPathComponent("\(remote.name)/\(sha)")
        if let cached = try? ModelPackage.open(folder), cached.metadata.weightsSha256 == sha,
            (try? cached.verifiedWeights()) != nil
        {
            return cached
        }
        let staging = cache.appendingPathComponent(".staging-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: staging) }
        for file in try client.artifactFiles(under: source) {
            let target = staging.appendingPathComponent(file.path)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try client.downloadArtifact(file.path, under: source, to: target)
        }
        let downloaded = try ModelPackage.open(staging)
        _ = try downloaded.verifiedWeights()
        guard downloaded.metadata.weightsSha256 == sha else {
            throw ServiceError.failed(
                "\(remote.name) version \(remote.version) on \(client.baseURL): its package's weights are not the ones registered"
            )
        }
        try FileManager.default.createDirectory(at: folder.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.moveItem(at: staging, to: folder)
        return try ModelPackage.open(folder)
    }

    private var cache: URL { context.config.home.appendingPathComponent("cache/mlflow") }
}
