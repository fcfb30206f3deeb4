import FishHTTPClient
import FishStore
public import Foundation
import Synchronization

/// The servers that answer for the models: the `fishops serve` processes that announced
/// themselves in the store, and servers on other machines named by URL (`FishConfig.servers`),
/// each with its live numbers from `GET /v1/stats`.
public struct ServingService: Sendable {
    /// How a server's record looks from here.
    public enum State: String, Codable, Sendable, CaseIterable {
        /// Its heartbeat is recent (or, for a server named by URL, it answered).
        case alive
        /// No heartbeat for `staleAfter`: busy, paused or dying.
        case stale
        /// No heartbeat for `goneAfter`, or its process on this machine has exited.
        case gone
        /// A server named by URL that did not answer.
        case unreachable
    }

    /// A server as the console and `fishops servers` show it.
    public struct Server: Codable, Sendable {
        public var url: String
        /// The store's record; nil for a server named by URL that never announced itself here.
        public var record: ServerRecord?
        public var state: State
        /// Its numbers, when it was polled and answered.
        public var stats: ServerStats?
        /// Why polling it failed.
        public var problem: String?
    }

    /// Seconds between a server's heartbeats.
    public static let heartbeatInterval: TimeInterval = 10
    /// A record without a heartbeat for this long is stale...
    public static let staleAfter: TimeInterval = 25
    /// ... and for this long, gone.
    public static let goneAfter: TimeInterval = 60

    private let context: ServiceContext
    private let environment: [String: String]

    /// `environment` gives the token polls present (`FISHOPS_SERVE_TOKEN`, else `FISHOPS_SERVE_ADMIN_TOKEN`).
    public init(context: ServiceContext, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.context = context
        self.environment = environment
    }

    /// Records a server that has started answering at `url`; the announcement beats and withdraws it.
    public func announce(url: String, model: String, alias: String, version: Int?) throws(StoreError) -> Announcement {
        let now = Date()
        let record = ServerRecord(
            url: url, host: context.actor.host, pid: Int(getpid()), model: model, alias: alias, version: version,
            startedAt: now, heartbeatAt: now)
        try context.store.announceServer(record)
        return Announcement(store: context.store, record: record)
    }

    /// Every server: recorded ones first (by URL), then those the configuration names by URL that
    /// have no record. Polls the live ones in parallel when `poll`.
    /// `only` keeps the server at that URL alone (for a view of one server).
    public func servers(poll: Bool = true, only: String? = nil, now: Date = Date()) throws(StoreError) -> [Server] {
        let records = try context.store.servers()
        let recorded = Set(records.map(\.url))
        var servers = records.map { Server(url: $0.url, record: $0, state: state(of: $0, now: now)) }
        var named = Set<String>()
        for url in context.config.servers where !recorded.contains(url) && named.insert(url).inserted {
            servers.append(Server(url: url, record: nil, state: .unreachable))
        }
        if let only { servers = servers.filter { $0.url == Self.normalized(only) } }
        guard poll else { return servers }
        let client = pollingClient()
        let polled = Mutex([Result<ServerStats, HTTPClientError>?](repeating: nil, count: servers.count))
        let targets = servers.map { $0.state == .gone ? nil : $0.url }
        DispatchQueue.concurrentPerform(iterations: targets.count) { index in
            guard let url = targets[index] else { return }
            let result = Result { () throws(HTTPClientError) in try Self.stats(of: url, client: client) }
            polled.withLock { $0[index] = result }
        }
        let results = polled.withLock { $0 }
        for index in servers.indices {
            switch results[index] {
            case let .success(stats)?:
                servers[index].stats = stats
                if servers[index].record == nil { servers[index].state = .alive }
            case let .failure(error)?: servers[index].problem = error.description
            case nil: break
            }
        }
        return servers
    }

    /// Removes a server's record (one that died without withdrawing it); false when there was none.
    public func forget(url: String) throws(StoreError) -> Bool {
        try context.store.removeServer(url: Self.normalized(url))
    }

    /// `GET url/v1/stats`.
    static func stats(of url: String, client: HTTPClient) throws(HTTPClientError) -> ServerStats {
        try client.get(url + "/v1/stats").json(ServerStats.self, decoder: ServerStats.decoder())
    }

    /// Polls are short: a server that takes longer than a few seconds to say how it is doing is shown as such.
    private func pollingClient() -> HTTPClient {
        let token = [environment["FISHOPS_SERVE_TOKEN"], environment["FISHOPS_SERVE_ADMIN_TOKEN"]].compactMap { $0 }.first {
            !$0.isEmpty
        }
        var client = HTTPClient(credentials: token.map { .bearer($0) })
        client.timeout = .seconds(3)
        client.connectTimeout = .seconds(2)
        client.maxReplyBytes = 4 * 1024 * 1024
        return client
    }

    private func state(of record: ServerRecord, now: Date) -> State {
        let silence = now.timeIntervalSince(record.heartbeatAt)
        if silence >= Self.goneAfter { return .gone }
        if record.host == context.actor.host, !Self.processIsRunning(record.pid) { return .gone }
        return silence >= Self.staleAfter ? .stale : .alive
    }

    /// Whether process `pid` of this machine exists and is not a zombie.
    static func processIsRunning(_ pid: Int) -> Bool {
        guard pid > 0, kill(pid_t(pid), 0) == 0 || errno == EPERM else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
    }

    /// `url` without a trailing slash.
    static func normalized(_ url: String) -> String {
        var url = url.trimmingCharacters(in: .whitespaces)
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }
}

/// A running server's record: `beat` keeps it alive, `withdraw` removes it when the server stops.
public final class Announcement: Sendable {
    private let record: ServerRecord
    private let store: Store
    /// Set by `withdraw`; held while a beat writes, so no beat can record the server again after it.
    private let withdrawn = Mutex(false)

    init(store: Store, record: ServerRecord) {
        self.store = store
        self.record = record
    }

    public var url: String { record.url }

    /// Renews the heartbeat with the version served now; records the server again when its record
    /// was removed meanwhile (`fishops servers --forget` on a live server). Does nothing once withdrawn.
    public func beat(version: Int?) throws(StoreError) {
        try withdrawn.withLock { (withdrawn: inout Bool) throws(StoreError) in
            guard !withdrawn else { return }
            let now = Date()
            if try !store.beatServer(url: url, version: version, at: now) {
                var renewed = record
                renewed.version = version
                renewed.heartbeatAt = now
                try store.announceServer(renewed)
            }
        }
    }

    /// Removes the record for good.
    public func withdraw() {
        withdrawn.withLock { withdrawn in
            withdrawn = true
            _ = try? store.removeServer(url: url)
        }
    }
}
