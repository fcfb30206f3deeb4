import FishStore
public import Foundation

/// Event hooks: commands or URLs told when an alias moves, a promotion is refused, or a training
/// run ends. Events are queued in the store with what raised them and delivered in the background
/// (see `OutboxDrain`), retried with backoff; a hook that fails never blocks what raised the event.
public struct HookService: Sendable {
    /// Attempts before an event is given up.
    public static let maxAttempts = 10
    private let context: ServiceContext

    public init(context: ServiceContext) {
        self.context = context
    }

    /// Adds hook `name` for `events` (names of `HookEventName`): `exec` runs a shell command with
    /// the event as JSON on standard input; `post` sends it to a URL, with a Bearer token read at
    /// each delivery from `tokenFile` or the environment variable `tokenEnvironment`.
    @discardableResult
    public func add(
        name: String, events: [String], exec: String?, post: String?, tokenFile: String? = nil, tokenEnvironment: String? = nil
    ) throws(ServiceError) -> Hook {
        let known = HookEventName.allCases.map(\.rawValue).joined(separator: ", ")
        var names: [HookEventName] = []
        for text in events.flatMap({ $0.split(separator: ",") }).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let event = HookEventName(rawValue: text) else {
                throw .invalidArgument("unknown event \(text.debugDescription); events: \(known)")
            }
            if !names.contains(event) { names.append(event) }
        }
        guard !names.isEmpty else { throw .invalidArgument("a hook needs --on EVENTS (\(known))") }
        let action: Hook.Action
        switch (exec, post) {
        case let (command?, nil):
            guard !command.trimmingCharacters(in: .whitespaces).isEmpty else { throw .invalidArgument("--exec needs a command") }
            guard tokenFile == nil, tokenEnvironment == nil else {
                throw .invalidArgument("--token-file and --token-env go with --post")
            }
            action = .exec(command: command)
        case let (nil, url?):
            guard let components = URLComponents(string: url), ["http", "https"].contains(components.scheme?.lowercased() ?? ""),
                components.host?.isEmpty == false
            else {
                throw .invalidArgument("--post \(url.debugDescription) is not an http:// or https:// URL")
            }
            action = .post(url: url, tokenFile: tokenFile, tokenEnvironment: tokenEnvironment)
            if let tokenFile, !FileManager.default.isReadableFile(atPath: tokenFile) {
                throw .invalidArgument("--token-file \(tokenFile) cannot be read")
            }
        default:
            throw .invalidArgument("a hook takes one of --exec CMD or --post URL")
        }
        let hook = Hook(name: name, events: names, action: action, createdAt: Date(), createdBy: context.actor.user)
        do { try context.store.addHook(hook) } catch { throw .invalidArgument("\(error)") }
        return hook
    }

    public func remove(_ name: String) throws(StoreError) { try context.store.removeHook(name) }

    public func list() throws(StoreError) -> [Hook] { try context.store.hooks() }

    /// The newest `limit` delivery attempts, oldest first.
    public func log(limit: Int = 50) throws(StoreError) -> [HookDelivery] { try context.store.hookDeliveries(limit: limit) }

    /// Events waiting for a hook.
    public func pending() throws(StoreError) -> Int { try context.store.queuedHookEvents() }

    /// Raises `event` for what the store does not record itself (a training run's outcome).
    func raise(_ event: HookEventName, payload: [String: any Sendable]) {
        // A hook must never fail what raised its event.
        try? context.store.raiseEvent(event, payload: payload)
    }

    /// Raises `drift_raised`: a server's drift check of `version` (served as `alias` of `model`) turned to drift.
    public func driftRaised(model: String, alias: String, version: Int, check: DriftCheck) {
        raise(
            .driftRaised,
            payload: [
                "model": model, "alias": alias, "version": version, "images": check.images, "reasons": check.reasons,
                "mmd_p_value": check.mmdPValue, "ks_p_value": check.ksPValue, "class_mix_p_value": check.classMixPValue,
                "mean_confidence": check.meanConfidence, "reference_confidence": check.referenceConfidence,
            ])
    }

    /// Delivers the events that are due (every queued one with `ignoringBackoff`), one attempt
    /// each, holding the home's hook lock (two processes would deliver an event twice): waiting
    /// for it, or with `onlyIfFree` doing nothing while another process holds it. Returns the
    /// attempts made.
    @discardableResult
    public func deliver(ignoringBackoff: Bool = false, onlyIfFree: Bool = false) throws(StoreError) -> [HookDelivery] {
        let lock = context.config.home.appendingPathComponent("hooks.lock")
        do {
            if onlyIfFree { return try FileLock.ifFree(lock) { try attempt(ignoringBackoff: ignoringBackoff) } ?? [] }
            return try FileLock.holding(lock) { try attempt(ignoringBackoff: ignoringBackoff) }
        } catch let error as StoreError {
            throw error
        } catch {
            throw .invalid("\(error)")
        }
    }

    private func attempt(ignoringBackoff: Bool) throws(StoreError) -> [HookDelivery] {
        var made: [HookDelivery] = []
        for event in try context.store.dueHookEvents(ignoringBackoff: ignoringBackoff) {
            let (delivered, detail) = HookSender.send(event)
            let attempt = event.attempts + 1
            let outcome: HookDelivery.Outcome = delivered ? .delivered : attempt >= Self.maxAttempts ? .gaveUp : .failed
            let retryAt = Date().addingTimeInterval(min(pow(2, Double(attempt)), 300))
            try context.store.recordHookAttempt(event, outcome: outcome, detail: detail, retryAt: retryAt)
            made.append(
                HookDelivery(
                    hook: event.hook.name, event: event.event, eventId: event.id, attempt: attempt, at: Date(), outcome: outcome,
                    detail: detail))
        }
        return made
    }
}
