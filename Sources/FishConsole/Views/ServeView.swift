import FishServices
import Foundation

/// `:serve`: every inference server (recorded by `fishops serve`, or named by URL; `down` when it
/// does not answer) with its
/// version, request rate, p95 latency, failures, queue and cache over the last minute, and its
/// drift verdict; stale and gone servers are marked. Enter opens one; `x` forgets the record of a gone one.
final class ServeView: ConsoleView {
    let name = "serve", title = "serve"
    let actions = [
        Action("open", .enter, "open the server"),
        Action("forget", .character("x"), "forget a gone server's record", dangerous: true),
    ]
    private var loader: Loader<[ServingService.Server]>?
    private var table = Table(columns: [
        .init("server"), .init("state", width: 5), .init("model", width: 11),
        .init("req/s", width: 12), .init("p95", width: 5), .init("fail", width: 4),
        .init("queue", width: 5), .init("cache", width: 5), .init("drift", width: 5),
    ])

    var isStale: Bool { loader?.isStale() ?? false }

    func refresh(_ app: ConsoleApp, force: Bool) {
        if loader == nil { loader = app.loader(interval: 2) }
        let context = app.context
        let work: @Sendable () throws -> [ServingService.Server] = { try ServingService(context: context).servers() }
        loader?.refresh(force: force, work)
    }

    private var servers: [ServingService.Server] { loader?.value ?? [] }

    func handle(_ key: Key, action: Action?, app: ConsoleApp) -> Bool {
        syncTable(app)
        let selected = servers.indices.contains(table.selected) ? servers[table.selected] : nil
        switch action?.id {
        case "open"?:
            if let selected { app.push(ServerView(url: selected.url)) }
        case "forget"?:
            guard let selected else { return true }
            guard selected.state == .gone else {
                app.say(
                    "\(ServeFormat.address(selected.url)) is \(selected.state.rawValue); only a gone server's record can be forgotten",
                    isError: true)
                return true
            }
            let context = app.context
            let url = selected.url
            app.confirm(
                Dialog(
                    title: "forget \(ServeFormat.address(url))", lines: ["Remove the record of this gone server from the store?"],
                    askReason: false, dangerous: true
                ) { [unowned app] _ in
                    do {
                        _ = try ServingService(context: context).forget(url: url)
                        app.say("forgot \(ServeFormat.address(url))")
                    } catch {
                        app.say("cannot forget \(url): \(error)", isError: true)
                    }
                    app.top.refresh(app, force: true)
                })
        default: return table.move(key)
        }
        return true
    }

    private func syncTable(_ app: ConsoleApp) {
        let glyphs = app.settings.glyphs
        table.update(
            servers.map { server in
                let stats = server.stats
                let minute = server.stats?.lastMinute
                let version = (stats?.version ?? server.record?.version).map { "v\($0)" } ?? "-"
                let model = (stats?.model ?? server.record?.model).map { "\(ServeFormat.shortModel($0)) \(version)" } ?? version
                let rate =
                    stats.map {
                        glyphs.spark($0.series.requestsPerSecond, width: 6) + " "
                            + ServeFormat.rate($0.lastMinute.requestsPerSecond)
                    } ?? "-"
                // A server that does not answer is down, whether it is recorded or named by URL.
                let state =
                    server.state == .unreachable || (server.stats == nil && server.problem != nil && server.state == .alive)
                    ? "down" : server.state.rawValue
                return Table.Row(
                    [
                        ServeFormat.address(server.url), state, model, rate,
                        minute?.latencyMs.map { $0.p95 >= 100 ? String(format: "%.0f", $0.p95) : String(format: "%.1f", $0.p95) }
                            ?? "-", minute.map { "\($0.failed)" } ?? "-",
                        stats.map { "\($0.queueDepth)" } ?? "-",
                        stats?.cache.hitRatio.map { String(format: "%.0f%%", $0 * 100) } ?? "-",
                        ServeFormat.drift(stats?.drift),
                    ],
                    role: stats?.drift?.check?.verdict == .drift ? "status.failed" : ServeFormat.role(server))
            })
    }

    func render(_ canvas: inout Canvas, in area: Rect, app: ConsoleApp) {
        syncTable(app)
        let alive = servers.filter { $0.state == .alive }.count
        let title = servers.isEmpty ? "servers" : "servers (\(alive) of \(servers.count) alive)  last minute"
        canvas.box(
            area, title: title, glyphs: app.settings.glyphs, style: app.style("ui.border.focus"),
            titleStyle: app.style("ui.title"))
        if let error = loader?.error {
            canvas.write(
                app.settings.glyphs.fit("\(error)", area.width - 4), x: area.x + 2, y: area.y + 1, style: app.style("ui.error"))
            return
        }
        if loader?.value?.isEmpty == true {
            canvas.write(
                app.settings.glyphs.fit(
                    "no servers: start one with `fishops serve`, or watch one with `fishops --server URL`", area.width - 4),
                x: area.x + 2, y: area.y + 1, style: app.style("ui.muted"))
            return
        }
        let (list, footer) = area.inset(1).split(top: area.height - 3)
        table.render(&canvas, in: list, app: app)
        if servers.indices.contains(table.selected), let problem = servers[table.selected].problem {
            canvas.write(
                app.settings.glyphs.fit(problem, footer.width - 2), x: footer.x + 1, y: footer.y, style: app.style("ui.error"))
        }
    }
}

/// Text forms of the serving views.
enum ServeFormat {
    /// A server's URL without `http://`.
    static func address(_ url: String) -> String {
        url.hasPrefix("http://") ? String(url.dropFirst(7)) : url
    }

    /// A model name cut to 8 characters (`imagene~`), to leave room for its version.
    static func shortModel(_ name: String) -> String { name.count > 8 ? String(name.prefix(7)) + "~" : name }

    /// A drift verdict in a few letters: `-` without a reference, `wait` before the first check.
    static func drift(_ drift: ServerStats.Drift?) -> String {
        guard let drift else { return "-" }
        guard let check = drift.check else { return "wait" }
        switch check.verdict {
        case .none: return "none"
        case .warning: return "warn"
        case .drift: return "DRIFT"
        case .insufficient: return "few"
        }
    }

    static func rate(_ perSecond: Double) -> String {
        perSecond >= 100 ? String(format: "%.0f", perSecond) : String(format: "%.1f", perSecond)
    }

    /// The theme role of a server's row.
    static func role(_ server: ServingService.Server) -> String {
        switch server.state {
        case .alive: return server.problem == nil ? "table.row" : "status.failed"
        case .stale: return "ui.stale"
        case .gone: return "ui.muted"
        case .unreachable: return "status.failed"
        }
    }
}
