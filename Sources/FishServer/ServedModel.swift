import FishServices
import Foundation
import Prometheus
import Synchronization

/// The model version being served. A background check loads the version the alias points at,
/// warms it with one forward pass, and swaps it in atomically; requests already running keep the
/// version they started with.
final class ServedModel: Sendable {
    let name: String
    let alias: String
    private let current = Mutex<LoadedModel?>(nil)
    private let context: ServiceContext
    private let metrics: ServerMetrics

    init(context: ServiceContext, name: String, alias: String, metrics: ServerMetrics) {
        self.context = context
        self.name = name
        self.alias = alias
        self.metrics = metrics
    }

    /// The model to answer a request with, or nil before the first load.
    var model: LoadedModel? { current.withLock { $0 } }

    /// Loads the alias's version (the latest while the alias is unset) if it differs from the one
    /// served; returns the new version when it swapped.
    func reloadIfMoved() throws -> Int? {
        // The common case, every few seconds: the alias still points at the served version (one read).
        let registry = RegistryService(context: context)
        let aliased = try registry.holder(model: name, alias: alias)
        if let aliased, aliased == model?.version { return nil }
        let target = try registry.resolvedVersion(model: name, version: aliased).version
        if model?.version == target { return nil }
        let loaded = try ClassificationService(context: context).loadModel(name: name, version: target)
        try loaded.warmUp()
        metrics.drift.reset(for: loaded)
        current.withLock { $0 = loaded }
        metrics.modelVersion.set(to: Double(target))
        return target
    }
}
