public import Foundation

/// What a hook can be told about.
public enum HookEventName: String, Codable, Sendable, CaseIterable {
    /// An alias moved (a promotion or a rollback took effect).
    case aliasMoved = "alias_moved"
    /// The promotion gate refused a promotion.
    case promotionRefused = "promotion_refused"
    /// A training run finished, and registered its version.
    case trainingFinished = "training_finished"
    /// A training run failed or was cancelled.
    case trainingFailed = "training_failed"
    /// A server's drift check found that the photos it answers no longer look like the served
    /// version's training data (once per version, each time the verdict turns to drift).
    case driftRaised = "drift_raised"
}

/// An operator's hook: run a command or post to a URL when one of `events` happens.
public struct Hook: Codable, Sendable, Equatable {
    public enum Action: Codable, Sendable, Equatable {
        /// `/bin/sh -c command`, with the event as JSON on standard input.
        case exec(command: String)
        /// A JSON POST to `url`; the Bearer token is read at each delivery from `tokenFile`, or the
        /// environment variable `tokenEnvironment` (the store keeps where it is, never the token).
        case post(url: String, tokenFile: String?, tokenEnvironment: String?)
    }

    public var name: String
    public var events: [HookEventName]
    public var action: Action
    public var createdAt: Date
    public var createdBy: String

    public init(name: String, events: [HookEventName], action: Action, createdAt: Date, createdBy: String) {
        (self.name, self.events, self.action, self.createdAt, self.createdBy) = (name, events, action, createdAt, createdBy)
    }
}

/// An event waiting to be delivered to one hook.
public struct QueuedHookEvent: Sendable, Equatable {
    public var id: Int64
    public var hook: Hook
    public var event: HookEventName
    /// The JSON body the hook gets.
    public var payload: String
    public var raisedAt: Date
    /// Attempts so far.
    public var attempts: Int

    public init(id: Int64, hook: Hook, event: HookEventName, payload: String, raisedAt: Date, attempts: Int) {
        (self.id, self.hook, self.event, self.payload, self.raisedAt, self.attempts) = (
            id, hook, event, payload, raisedAt, attempts
        )
    }
}

/// One attempt to deliver an event to a hook (`fishops hooks log`, the console's `:logs`).
public struct HookDelivery: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable {
        case delivered, failed
        /// The last attempt failed; the event is dropped.
        case gaveUp = "gave_up"
    }

    public var id: Int64?
    public var hook: String
    public var event: HookEventName
    /// The queued event's id: every attempt at one event shares it (and the body's `delivery_id`).
    public var eventId: Int64
    public var attempt: Int
    public var at: Date
    public var outcome: Outcome
    /// What the receiver answered, or why it could not be reached.
    public var detail: String

    public init(
        id: Int64? = nil, hook: String, event: HookEventName, eventId: Int64, attempt: Int, at: Date, outcome: Outcome,
        detail: String
    ) {
        (self.id, self.hook, self.event, self.eventId, self.attempt) = (id, hook, event, eventId, attempt)
        (self.at, self.outcome, self.detail) = (at, outcome, detail)
    }
}
