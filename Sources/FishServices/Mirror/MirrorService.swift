import FishMLflow
public import FishRecords
import FishStore
public import Foundation

/// The mirror of the store on an MLflow server: its status, a sync on demand, and the drain that
/// long-running processes keep going in the background. Nothing here ever blocks a write to the
/// store: records wait in the outbox for as long as the server is away.
public struct MirrorService: Sendable {
    private let context: ServiceContext

    public init(context: ServiceContext) {
        self.context = context
    }

    /// How far the mirror is behind.
    public func status() throws(StoreError) -> MirrorStatus {
        var status = try context.store.mirrorBacklog()
        status.server = context.config.mlflowURI
        return status
    }

    /// The MLflow run id of run `runId`, once the mirror has created it (nil before, or without a mirror).
    public func mlflowRunID(_ runId: String) throws(StoreError) -> String? {
        try context.store.mirrorID("run", runId)
    }

    /// Sends every pending record now, in order, waiting for a drain of another process to
    /// finish first. Fails with the server's error (naming it) when the server cannot take them;
    /// what was not sent stays in the outbox. With `retryRefused`, records the server refused
    /// before are sent again (in their place in the order).
    public func sync(retryRefused: Bool = false) throws(ServiceError) -> MirrorSyncReport {
        guard let mirror = mirror() else {
            throw .badConfiguration("no MLflow server is configured: set FISHOPS_MLFLOW_URI or mlflow_uri in fishops.conf")
        }
        if retryRefused {
            do { _ = try context.store.retryRejectedMirrorEntries() } catch { throw .failed("\(error)") }
        }
        let result: (sent: Int, rejected: Int)
        do {
            result = try FileLock.holding(lockFile) { try mirror.drain() }
        } catch {
            try? context.store.recordMirrorFailure("\(error)")
            throw .failed("\(error)")
        }
        do { return MirrorSyncReport(sent: result.sent, rejected: result.rejected, status: try status()) } catch {
            throw .failed("\(error)")
        }
    }

    /// One pass of the background drain: sends what is pending unless another drain holds the
    /// lock. Returns false when the server could not be reached (the caller backs off).
    func drainOnce() -> Bool {
        guard let mirror = mirror() else { return true }
        do {
            guard try context.store.mirrorBacklog().pending > 0 else { return true }
            _ = try FileLock.ifFree(lockFile) { try mirror.drain() }
            return true
        } catch {
            try? context.store.recordMirrorFailure("\(error)")
            return false
        }
    }

    private func mirror() -> MLflowMirror? {
        guard let uri = context.config.mlflowURI else { return nil }
        let settings = MLflowSettings(uri: uri, environment: ProcessInfo.processInfo.environment)
        return MLflowMirror(context: context, client: MLflowClient(settings))
    }

    /// Held by whichever process drains: two drains would both create a run the server lacks.
    private var lockFile: URL { context.config.home.appendingPathComponent("mlflow.lock") }
}
