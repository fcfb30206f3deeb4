import FishServices
import Foundation

/// `:overview`: models and their production versions, latest runs, the training job, this
/// machine, the servers and their traffic, and recent events.
final class OverviewView: ConsoleView {
    let name = "overview", title = "overview"
    private var models: Loader<[ModelOverview]>?
    private var runs: Loader<[RunSummary]>?
    private var servers: Loader<[ServingService.Server]>?

    var isStale: Bool { models?.isStale() ?? false }

    func refresh(_ app: ConsoleApp, force: Bool) {
        let context = app.context
        if models == nil {
            models = app.loader(interval: 2)
            runs = app.loader(interval: 2)
            servers = app.loader(interval: 3)
        }
        let loadModels: @Sendable () throws -> [ModelOverview] = { try RegistryService(context: context).models() }
        let loadRuns: @Sendable () throws -> [RunSummary] = { try TrackingService(context: context).runs(limit: 6) }
        models?.refresh(force: force, loadModels)
        runs?.refresh(force: force, loadRuns)
        let loadServers: @Sendable () throws -> [ServingService.Server] = { try ServingService(context: context).servers() }
        servers?.refresh(force: force, loadServers)
    }

    func render(_ canvas: inout Canvas, in area: Rect, app: ConsoleApp) {
        let glyphs = app.settings.glyphs
        let (top, bottom) = area.split(top: area.height / 2)
        let (modelsArea, machineArea) = top.split(left: top.width * 3 / 5)
        canvas.box(modelsArea, title: "models", glyphs: glyphs, style: app.style("ui.border"), titleStyle: app.style("ui.title"))
        var y = modelsArea.y + 1
        if let error = models?.error {
            canvas.write(glyphs.fit("\(error)", modelsArea.width - 3), x: modelsArea.x + 2, y: y, style: app.style("ui.error"))
            y += 1
        }
        for model in (models?.value ?? []).prefix(modelsArea.height - 2) {
            let aliases = model.aliases.sorted { $0.key < $1.key }.map { "\($0.key)=v\($0.value)" }.joined(separator: " ")
            let line = "\(model.name)  v\(model.latestVersion ?? 0) latest  \(aliases)"
            canvas.write(
                glyphs.fit(line, modelsArea.width - 3), x: modelsArea.x + 2, y: y,
                style: app.style(model.aliases["production"] != nil ? "ui.text" : "ui.muted"), clip: modelsArea.inset(1))
            y += 1
        }
        if models?.value?.isEmpty == true {
            canvas.write("no models: run make setup", x: modelsArea.x + 2, y: y, style: app.style("ui.muted"))
        }
        renderMachine(&canvas, machineArea, app: app)

        let (runsArea, eventsArea) = bottom.split(left: bottom.width * 3 / 5)
        canvas.box(
            runsArea, title: "latest runs", glyphs: glyphs, style: app.style("ui.border"), titleStyle: app.style("ui.title"))
        y = runsArea.y + 1
        for run in (runs?.value ?? []).prefix(runsArea.height - 2) {
            let key =
                run.metrics.first { $0.key == "test_macro_f1" } ?? run.metrics.first { $0.key == "val_accuracy" }
                ?? run.metrics.first
            let metric = key.map { "\($0.key) \(Format.number($0.bestValue))" } ?? ""
            let line =
                "\(run.run.name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(run.run.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(metric)"
            canvas.write(
                glyphs.fit(line, runsArea.width - 3), x: runsArea.x + 2, y: y, style: app.style(Format.role(run.run.status)))
            y += 1
        }
        canvas.box(eventsArea, title: "events", glyphs: glyphs, style: app.style("ui.border"), titleStyle: app.style("ui.title"))
        let entries = app.log.all.suffix(eventsArea.height - 2)
        for (index, entry) in entries.enumerated() {
            canvas.write(
                glyphs.fit(entry.message, eventsArea.width - 3), x: eventsArea.x + 2, y: eventsArea.y + 1 + index,
                style: app.style(entry.isError ? "ui.error" : "ui.text"))
        }
    }

    /// How many servers are up, then one line per live one (see `:serve`).
    private func servingLines() -> [String] {
        guard let servers = servers?.value else { return [] }
        guard !servers.isEmpty else { return ["no servers (:serve)"] }
        let counts = ServingService.State.allCases.compactMap { state -> String? in
            let count = servers.filter { $0.state == state }.count
            return count > 0 ? "\(count) \(state.rawValue)" : nil
        }
        return ["servers: " + counts.joined(separator: ", ")]
            + servers.compactMap { server in
                guard server.state == .alive, let stats = server.stats else { return nil }
                let p95 = stats.lastMinute.latencyMs.map { String(format: " p95 %.0f ms", $0.p95) } ?? ""
                return
                    "  \(ServeFormat.shortModel(stats.model)) v\(stats.version.map(String.init) ?? "-") \(ServeFormat.rate(stats.lastMinute.requestsPerSecond))/s\(p95)"
            }
    }

    private func renderMachine(_ canvas: inout Canvas, _ area: Rect, app: ConsoleApp) {
        canvas.box(
            area, title: "this machine", glyphs: app.settings.glyphs, style: app.style("ui.border"),
            titleStyle: app.style("ui.title"))
        let node = LocalNode.read()
        var lines = [
            "\(node.cores) cores, load \(String(format: "%.2f", node.load))",
            String(format: "memory %.1f of %.1f GiB free", node.availableGiB, node.totalGiB),
        ]
        if let job = app.training?.snapshot {
            if let report = job.report {
                lines.append("trained \(report.model.name) v\(report.model.version)")
            } else if job.error != nil {
                lines.append("training stopped")
            } else {
                lines.append("training: \(job.stage?.rawValue ?? "starting") \(job.done)/\(job.total)")
            }
        } else {
            lines.append("no training job")
        }
        lines += servingLines()
        for (index, line) in lines.prefix(area.height - 2).enumerated() {
            canvas.write(
                app.settings.glyphs.fit(line, area.width - 3), x: area.x + 2, y: area.y + 1 + index, style: app.style("ui.text"))
        }
    }
}
