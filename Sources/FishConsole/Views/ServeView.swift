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

    private func syncTable(_ app: ConsoleApp) { table.update(ServingRows.servers(servers, glyphs: app.settings.glyphs)) }

    func render(_ canvas: inout Canvas, in area: Rect, app: ConsoleApp) {
        syncTable(app)
        canvas.panel(area, title: ServingRows.title(servers), focused: true, app: app)
        let inner = area.inset(1)
        if let error = loader?.error {
            return canvas.lines([StyledLine("\(error)", role: "ui.error")], in: inner, app: app)
        }
        if loader?.value?.isEmpty == true {
            let hint = "no servers: start one with `fishops serve`, or watch one with `fishops --server URL`"
            return canvas.lines([StyledLine(hint, role: "ui.muted")], in: inner, app: app)
        }
        let (list, footer) = inner.split(top: inner.height - 1)
        table.render(&canvas, in: list, app: app)
        if servers.indices.contains(table.selected), let problem = servers[table.selected].problem {
            canvas.lines([StyledLine(problem, role: "ui.error")], in: footer, app: app)
        }
    }
}
