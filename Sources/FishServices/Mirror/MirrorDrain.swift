import FishStore
public import Foundation

/// The background drain of a process that writes to a mirrored store: a thread that sends the
/// outbox every second, backing off (up to a minute) while the server is away.
public final class MirrorDrain: @unchecked Sendable {
    private let service: MirrorService
    private let context: ServiceContext
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var stopped = false
    private var passes = 0
    private var idle = true

    /// Starts draining `context`'s outbox; nil when no MLflow server is configured.
    public static func start(_ context: ServiceContext) -> MirrorDrain? {
        guard context.config.mlflowURI != nil else { return nil }
        let drain = MirrorDrain(context: context)
        let thread = Thread { drain.loop() }
        thread.name = "fishops-mlflow-drain"
        thread.start()
        return drain
    }

    private init(context: ServiceContext) {
        self.context = context
        service = MirrorService(context: context)
    }

    /// At the end of a command: when this process recorded anything, lets the drain send it for
    /// up to `limit`, then stops. Returns the status when records are left behind, else nil.
    public func finish(within limit: Duration) -> MirrorStatus? {
        defer { stop() }
        guard context.store.mirrorEntriesWritten > 0 else { return nil }
        flush(within: limit)
        guard let status = try? service.status(), status.pending > 0 else { return nil }
        return status
    }

    /// Waits up to `limit` for a pass that starts now to finish (a command about to exit lets the
    /// drain send what it wrote, without waiting on a server that is away). Returns whether it did.
    @discardableResult
    public func flush(within limit: Duration) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let target = passes + (idle ? 1 : 2)
        condition.broadcast()
        let deadline = Date().addingTimeInterval(Double(limit.components.seconds))
        while passes < target && !stopped {
            if !condition.wait(until: deadline) { return false }
        }
        return true
    }

    /// Stops the thread after its current pass.
    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func loop() {
        var delay: TimeInterval = 1
        while true {
            condition.lock()
            if stopped {
                condition.unlock()
                return
            }
            idle = false
            condition.unlock()
            let reached = service.drainOnce()
            delay = reached ? 1 : min(delay * 2, 60)
            condition.lock()
            passes += 1
            idle = true
            condition.broadcast()
            if !stopped { _ = condition.wait(until: Date().addingTimeInterval(delay)) }
            condition.unlock()
        }
    }
}
