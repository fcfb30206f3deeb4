package import FishStore
public import Foundation

/// What every service shares: the resolved configuration, the store, and who is acting.
/// Interfaces create one per process and hand it to the services they use.
public final class ServiceContext: Sendable {
    public let config: FishConfig
    /// The store; the interfaces reach it only through the services (tests of this package may read it).
    package let store: Store
    public let actor: ActingUser

    /// Opens the store under `config.home`.
    public init(config: FishConfig, environment: [String: String] = ProcessInfo.processInfo.environment) throws(StoreError) {
        self.config = config
        store = try Store(directory: config.home, mirrors: config.mlflowURI != nil)
        PackageFolders.removeStaleStaging(in: config.modelsDirectory)
        let user = environment["FISHOPS_USER"] ?? environment["USER"] ?? environment["LOGNAME"] ?? "unknown"
        actor = ActingUser(user: user, host: ProcessInfo.processInfo.hostName)
    }

    /// The lock file a pipeline's coordinator holds while it runs `runId` (the system releases it
    /// when the process ends, however it ends).
    func coordinatorLock(_ runId: String) -> URL {
        config.home.appendingPathComponent("pipelines/\(runId).lock")
    }

    /// The folder of a package recorded as `relativePath` in the registry.
    func packageDirectory(_ relativePath: String) -> URL {
        config.home.appendingPathComponent(relativePath)
    }
}
