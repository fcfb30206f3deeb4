import FishMLflow
import Foundation

/// What a server should answer with: the version a model's alias points at in this store (its
/// latest while the alias is unset), or the version a `models:/` URI names in MLflow.
public struct ServedVersionTracker: Sendable {
    private let context: ServiceContext
    private let model: String
    private let alias: String
    private let uri: MLflowModelURI?

    /// Follows `alias` of `model`; a `models:/` model names its alias (or version) itself.
    public init(context: ServiceContext, model: String, alias: String) throws(ServiceError) {
        self.context = context
        self.model = model
        self.alias = alias
        uri = try MLflowModelURI.parse(model)
        if uri != nil { _ = try MLflowModels(context: context) }
    }

    /// The model to swap in when the followed version is not `served`, else nil. The common
    /// case, every few seconds, is one read: the alias still points at the served version.
    public func moved(from served: LoadedModel?) throws -> LoadedModel? {
        if let uri {
            let models = try MLflowModels(context: context)
            let remote = try models.current(uri)
            return MLflowModels.isServed(remote, as: served) ? nil : try models.load(remote, threads: context.config.threads)
        }
        let registry = RegistryService(context: context)
        let aliased = try registry.holder(model: model, alias: alias)
        if let aliased, aliased == served?.version { return nil }
        let target = try registry.resolvedVersion(model: model, version: aliased).version
        if served?.version == target { return nil }
        return try ClassificationService(context: context).loadModel(name: model, version: target)
    }
}
