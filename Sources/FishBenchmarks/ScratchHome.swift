import FishNeural
public import FishServices
import Foundation

/// A throwaway FishOps home with the base model copied in, for benchmarks that must not touch
/// the operator's store or feature cache.
public final class ScratchHome: Sendable {
    public let context: ServiceContext

    /// Creates the home under the temporary folder and imports `context`'s base model into it.
    public init(copying context: ServiceContext) throws {
        let backbone = try RegistryService(context: context).resolve(model: FishConfig.baseModelName).package
        var config = context.config
        config.home = FileManager.default.temporaryDirectory.appendingPathComponent("fishops-scratch-\(UUID().uuidString)")
        config.mlflowURI = nil  // a benchmark's runs are not the team's
        self.context = try ServiceContext(config: config)
        _ = try WeightsService(context: self.context)
            .importImageNetWeights(path: backbone.directory.appendingPathComponent(ModelPackage.weightsFile).path)
    }

    deinit {
        try? FileManager.default.removeItem(at: context.config.home)
    }
}
