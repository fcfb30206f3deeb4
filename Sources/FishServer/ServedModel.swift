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
    private let tracker: ServedVersionTracker

    init(context: ServiceContext, name: String, alias: String, metrics: ServerMetrics) throws(ServiceError) {
        self.context = context
        self.name = name
        self.alias = alias
        self.metrics = metrics
        tracker = try ServedVersionTracker(context: context, model: name, alias: alias)
    }

    /// The model to answer a request with, or nil before the first load.
    var model: LoadedModel? { current.withLock { $0 } }

    /// Loads the followed version (see `ServedVersionTracker`) if it differs from the one served;
    /// returns the new version when it swapped.
    func reloadIfMoved() throws -> Int? {
        guard let loaded = try tracker.moved(from: model) else { return nil }
        try loaded.warmUp()
        metrics.drift.reset(for: loaded)
        current.withLock { $0 = loaded }
        metrics.modelVersion.set(to: Double(loaded.version))
        return loaded.version
    }
}
