import ArgumentParser
import FishServices
import Foundation

/// `fishops servers`: the running inference servers and their live numbers.
struct Servers: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "List the inference servers: those recorded by `fishops serve` and those named by URL, with their live numbers.",
        discussion: """
            A server records itself in the store while it runs and beats every 10 s; one silent for 25 s is
            stale, for 60 s (or whose process on this machine has exited) gone. Servers on other machines are
            named by URL: --server, $FISHOPS_SERVERS or `server = URL` lines in $FISHOPS_HOME/fishops.conf.
            Polls present $FISHOPS_SERVE_TOKEN when set. See docs/serving.md.
            """)

    @Option(help: "Also watch the server at this URL (repeatable, or comma-separated).") var server: [String] = []
    @Flag(help: "One JSON object per server (its record, state and /v1/stats answer).") var json = false
    @Flag(help: "Do not poll the servers: show the records only.") var noPoll = false
    @Option(help: "Remove the record of the server at this URL (one that died without removing it) and exit.") var forget: String?

    func run() throws {
        let context = try makeContext(servers: server)
        let service = ServingService(context: context)
        if let forget {
            guard try reporting({ try service.forget(url: forget) }) else {
                throw fail(ServiceError.invalidArgument("no server is recorded at \(forget)"))
            }
            print("forgot \(forget)")
            return
        }
        let servers = try reporting { try service.servers(poll: !noPoll) }
        if json {
            for server in servers { print(jsonLine(server, snakeCase: true)) }
            return
        }
        guard !servers.isEmpty else {
            print("No servers: start one with `fishops serve`, or name one with --server URL.")
            return
        }
        let rows = servers.map(Self.row)
        let header = ["URL", "STATE", "MODEL", "VERSION", "REQ/S", "P95 MS", "ERRORS", "QUEUE", "CACHE", "SINCE"]
        let widths = header.indices.map { column in (rows.map { $0[column] } + [header[column]]).map(\.count).max() ?? 0 }
        for line in [header] + rows {
            print(
                zip(line, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                    .trimmingCharacters(in: .whitespaces))
        }
        for server in servers where server.problem != nil { print("\(server.url): \(server.problem ?? "")") }
    }

    /// One table row: the record's facts, then the last minute's numbers when the server answered.
    static func row(_ server: ServingService.Server) -> [String] {
        let stats = server.stats
        let minute = server.stats?.lastMinute
        let model = stats.map { "\($0.model)@\($0.alias)" } ?? server.record.map { "\($0.model)@\($0.alias)" } ?? "-"
        let version = (stats?.version ?? server.record?.version).map { "v\($0)" } ?? "-"
        return [
            server.url, server.state.rawValue, model, version,
            minute.map { String(format: "%.1f", $0.requestsPerSecond) } ?? "-",
            minute?.latencyMs.map { String(format: "%.1f", $0.p95) } ?? "-",
            minute.map { "\($0.failed)" } ?? "-",
            stats.map { "\($0.queueDepth)" } ?? "-",
            stats?.cache.hitRatio.map { String(format: "%.0f%%", $0 * 100) } ?? "-",
            (stats?.startedAt ?? server.record?.startedAt).map(shortDate) ?? "-",
        ]
    }
}
