import FishImaging
import FishNeural
public import Foundation

/// Minimal sound model packages, for registry tests that need versions to promote but no network.
public enum TestPackages {
    /// Writes a package of one small tensor at `home/models/<model>/<version>` and returns what the
    /// registry records for it (its weights' sha256 and its path relative to `home`).
    public static func write(home: URL, model: String, version: Int) throws -> (sha256: String, path: String) {
        let relative = "models/\(model)/\(version)"
        let metadata = ModelPackage.Metadata(
            name: model, version: version, architecture: "test", weightsSha256: "", preprocessing: .efficientNetLite,
            classNames: ["a", "b"], createdAt: Date(), source: "test", sourceSha256: nil)
        let package = try ModelPackage.write(
            tensors: ["w": HostTensor(shape: [2], values: [1, Float(version)])],
            metadata: metadata, to: home.appendingPathComponent(relative))
        return (package.metadata.weightsSha256, relative)
    }
}
