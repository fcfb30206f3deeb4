import FishNeural
import Foundation

/// The model packages under `$FISHOPS_HOME/models/<name>/<version>/`.
public struct ModelLibrary: Sendable {
    public let root: URL

    public init(config: FishConfig) {
        root = config.modelsDirectory
    }

    /// Names of the installed models, sorted.
    public func modelNames() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return entries.filter { !$0.hasPrefix(".") && !versions(of: $0).isEmpty }.sorted()
    }

    /// Installed versions of `name`, ascending.
    public func versions(of name: String) -> [Int] {
        let folder = root.appendingPathComponent(name)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return entries.compactMap(Int.init).filter { version in
            FileManager.default.fileExists(atPath: folder.appendingPathComponent("\(version)/\(ModelPackage.metadataFile)").path)
        }.sorted()
    }

    /// The package of `name` at `version`, or its latest version.
    public func package(named name: String, version: Int? = nil) throws -> ModelPackage {
        guard let chosen = version ?? versions(of: name).last, versions(of: name).contains(chosen) else {
            throw ServiceError.modelNotFound(name: version.map { "\(name) v\($0)" } ?? name, available: modelNames())
        }
        return try ModelPackage.open(directory(name: name, version: chosen))
    }

    /// The folder of `name` at `version`.
    public func directory(name: String, version: Int) -> URL {
        root.appendingPathComponent(name).appendingPathComponent(String(version))
    }
}
