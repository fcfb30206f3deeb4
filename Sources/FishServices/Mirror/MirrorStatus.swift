public import Foundation

/// How far the MLflow mirror is behind the store (`fishops mlflow status`, the console's overview).
public struct MirrorStatus: Sendable, Codable, Equatable {
    /// The MLflow server (no credentials in it); nil when none is configured.
    public var server: String?
    /// Records waiting to be sent.
    public var pending: Int
    /// Records the server refused for good (kept in the outbox), and its newest reason.
    public var rejected: Int
    public var lastRejection: String?
    public var oldestPendingAt: Date?
    public var lastSentAt: Date?
    /// Why the last attempt to reach the server failed; cleared by the next success.
    public var lastError: String?
    public var lastErrorAt: Date?

    public init(
        server: String?, pending: Int, rejected: Int, lastRejection: String? = nil, oldestPendingAt: Date? = nil,
        lastSentAt: Date? = nil, lastError: String? = nil, lastErrorAt: Date? = nil
    ) {
        (self.server, self.pending, self.rejected, self.lastRejection) = (server, pending, rejected, lastRejection)
        (self.oldestPendingAt, self.lastSentAt, self.lastError, self.lastErrorAt) =
            (oldestPendingAt, lastSentAt, lastError, lastErrorAt)
    }

    /// One line for tables and the console: in sync, N behind, or the last error.
    public var summary: String {
        guard server != nil else { return "no MLflow server configured" }
        if let lastError, pending > 0 { return "\(pending) behind: \(lastError)" }
        if pending > 0 { return "\(pending) behind" }
        return rejected > 0 ? "in sync (\(rejected) refused by the server)" : "in sync"
    }
}

/// What one `fishops mlflow sync` sent.
public struct MirrorSyncReport: Sendable, Codable, Equatable {
    public var sent: Int
    public var rejected: Int
    public var status: MirrorStatus
}
