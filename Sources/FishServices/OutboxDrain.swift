import FishStore
public import Foundation

/// The background deliveries of a process: a thread that, every second, delivers the hook events
/// that are due and sends the store's outbox to MLflow (backing off, up to a minute, while MLflow
/// is away; each hook event keeps its own retry schedule).
public final class OutboxDrain: @unchecked Sendable {
    private let context: ServiceContext
    private let mirror: MirrorService?
    private let hooks: HookService
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var stopped = false
    private var passes = 0
    private var idle = true
    /// A flush asked for the next pass to try MLflow even while backing off.
    private var flushRequested = false

    /// Starts the thread; nil when there is nothing to deliver to (no MLflow server, no hook).
    public static func start(_ context: ServiceContext) -> OutboxDrain? {
        let hasHooks = (try? context.store.hooks().isEmpty == false) ?? false
        guard context.config.mlflowURI != nil || hasHooks else { return nil }
        let drain = OutboxDrain(context: context)
        let thread = Thread { drain.loop() }
        thread.name = "fishops-outbox-drain"
        thread.start()
        return drain
    }

    private init(context: ServiceContext) {
        self.context = context
        mirror = context.config.mlflowURI == nil ? nil : MirrorService(context: context)
        hooks = HookService(context: context)
    }

    /// At the end of a command: when this process recorded anything to deliver, lets the drain
    /// try for up to `limit`, then stops. Returns what is left behind, one line each.
    public func finish(within limit: Duration) -> [String] {
        defer { stop() }
        guard context.store.outboxEntriesWritten > 0 else { return [] }
        flush(within: limit)
        var left: [String] = []
        if let status = try? mirror?.status(), status.pending > 0 {
            left.append("mlflow: \(status.summary); `fishops mlflow sync` sends the rest")
        }
        if let waiting = try? hooks.pending(), waiting > 0 {
            left.append(
                "hooks: \(waiting) event(s) not delivered yet; `fishops hooks log` says why, `fishops hooks deliver` retries now")
        }
        return left
    }

    /// Waits up to `limit` for a pass that starts now to finish. Returns whether it did.
    @discardableResult
    public func flush(within limit: Duration) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let target = passes + (idle ? 1 : 2)
        flushRequested = true
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
        var mirrorDelay: TimeInterval = 1
        var mirrorDue = Date()
        while true {
            condition.lock()
            if stopped {
                condition.unlock()
                return
            }
            idle = false
            let flushing = flushRequested
            flushRequested = false
            condition.unlock()
            _ = try? hooks.deliver(onlyIfFree: true)
            if let mirror, flushing || Date() >= mirrorDue {
                mirrorDelay = mirror.drainOnce() ? 1 : min(mirrorDelay * 2, 60)
                mirrorDue = Date().addingTimeInterval(mirrorDelay)
            }
            condition.lock()
            passes += 1
            idle = true
            condition.broadcast()
            if !stopped { _ = condition.wait(until: Date().addingTimeInterval(1)) }
            condition.unlock()
        }
    }
}
