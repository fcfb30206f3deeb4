public import Foundation

/// How far the MLflow mirror is behind the store (`fishops mlflow status`, the console's overview):
/// the store's outbox and the last success and failure of its drain.
public struct MirrorStatus: Sendable, Codable, Equatable {
    /// The MLflow server (no credentials in it); nil when none is configured (or before the
    /// service layer names it: the store does not know it).
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
