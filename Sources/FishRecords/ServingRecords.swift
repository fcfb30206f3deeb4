public import Foundation

/// A running `fishops serve` as it announced itself in the store.
public struct ServerRecord: Codable, Sendable, Equatable {
    /// Where its API answers, e.g. `http://127.0.0.1:8080`; the record's key.
    public var url: String
    public var host: String
    public var pid: Int
    public var model: String
    public var alias: String
    /// The version it serves (nil while the alias points nowhere it can load).
    public var version: Int?
    public var startedAt: Date
    public var heartbeatAt: Date

    public init(
        url: String, host: String, pid: Int, model: String, alias: String, version: Int?, startedAt: Date, heartbeatAt: Date
    ) {
        self.url = url
        self.host = host
        self.pid = pid
        self.model = model
        self.alias = alias
        self.version = version
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
    }
}
