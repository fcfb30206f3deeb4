import FishServices
import Foundation

/// `:overview`: models and their production versions, latest runs, the training job, this
/// machine, the servers and their traffic, and recent events.
final class OverviewView: ConsoleView {
    let name = "overview", title = "overview"
    private var models: Loader<[ModelOverview]>?
    private var runs: Loader<[RunSummary]>?
    private var servers: Loader<[ServingService.Server]>?
    /// This machine's cores, load and memory, read from /proc off the render thread.
    private var node: Loader<LocalNode>?
    /// How far the MLflow mirror is behind, when the store has one.
    private var mirror: Loader<MirrorStatus>?

    var isStale: Bool { models?.isStale() ?? false }

    func refresh(_ app: ConsoleApp, force: Bool) {
        let context = app.context
        if models == nil {
            models = app.loader(interval: 2)
            runs = app.loader(interval: 2)
            servers = app.loader(interval: 3)
            node = app.loader(interval: 2)
            mirror = app.loader(interval: 3)
        }
        let loadModels: @Sendable () throws -> [ModelOverview] = { try RegistryService(context: context).models() }
        let loadRuns: @Sendable () throws -> [RunSummary] = { try TrackingService(context: context).runs(limit: 6) }
        models?.refresh(force: force, loadModels)
        runs?.refresh(force: force, loadRuns)
        let loadServers: @Sendable () throws -> [ServingService.Server] = { try ServingService(context: context).servers() }
        servers?.refresh(force: force, loadServers)
        node?.refresh(force: force) { LocalNode.read() }
        if context.config.mlflowURI != nil {
            mirror?.refresh(force: force) { try MirrorService(context: context).status() }
        }
    }

    func render(_ canvas: inout Canvas, in area: Rect, app: ConsoleApp) {
        let (top, bottom) = area.split(top: area.height / 2)
        let (modelsArea, machineArea) = top.split(left: top.width * 3 / 5)
        canvas.panel(modelsArea, title: "models", app: app)
        var modelLines = models?.error.map { [StyledLine("\($0)", role: "ui.error")] } ?? []
        modelLines += OverviewRows.models(models?.value ?? [])
        if models?.value?.isEmpty == true { modelLines.append(StyledLine("no models: run make setup", role: "ui.muted")) }
        canvas.lines(modelLines, in: modelsArea.inset(1), margin: 0, app: app)
        canvas.panel(machineArea, title: "this machine", app: app)
        let machine =
            OverviewRows.machine(node?.value, training: app.training?.snapshot, servers: servers?.value)
            + OverviewRows.mirror(mirror?.value)
        canvas.lines(machine, in: machineArea.inset(1), margin: 0, app: app)

        let (runsArea, eventsArea) = bottom.split(left: bottom.width * 3 / 5)
        canvas.panel(runsArea, title: "latest runs", app: app)
        canvas.lines(OverviewRows.runs(runs?.value ?? []), in: runsArea.inset(1), margin: 0, app: app)
        canvas.panel(eventsArea, title: "events", app: app)
        let events = eventsArea.inset(1)
        canvas.lines(LogRows.events(app.log.all.suffix(events.height), timed: false), in: events, margin: 0, app: app)
    }
}
