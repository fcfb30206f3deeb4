import FishServices
import Foundation

/// `:cluster`: the backends in use, their nodes (this machine's worker pool, Slurm nodes), and
/// the unfinished worker tasks of running pipelines with their workers, CPU, memory, progress
/// and queue reasons (from `ClusterService`).
final class ClusterView: ConsoleView {
    let name = "cluster", title = "cluster"
    private var state: Loader<ClusterService.State>?

    var isStale: Bool { state?.isStale() ?? false }

    func refresh(_ app: ConsoleApp, force: Bool) {
        if state == nil { state = app.loader(interval: 2) }
        let context = app.context
        let work: @Sendable () throws -> ClusterService.State = { try ClusterService(context: context).state() }
        state?.refresh(force: force, work)
    }

    func render(_ canvas: inout Canvas, in area: Rect, app: ConsoleApp) {
        let value = state?.value
        let (top, bottom) = area.split(top: min(max(value?.nodes.count ?? 1, 1) + 4, area.height / 2))
        var nodes = Table(columns: [
            .init("node", width: 16), .init("state", width: 18), .init("cpus", width: 5),
            .init("busy", width: 5), .init("load", width: 6), .init("memory MB"),
        ])
        nodes.update(ClusterRows.nodes(value))
        canvas.panel(top, title: ClusterRows.nodesTitle(value), focused: true, app: app)
        nodes.render(&canvas, in: top.inset(1), app: app, focused: false)
        var tasks = Table(columns: [
            .init("run", width: 8), .init("task", width: 13), .init("state", width: 9), .init("worker", width: 11),
            .init("cpu%", width: 4), .init("MB", width: 5), .init("progress", width: 14), .init("reason"),
        ])
        tasks.update(ClusterRows.tasks(value, glyphs: app.settings.glyphs))
        canvas.tableBox(&tasks, title: ClusterRows.tasksTitle(value), error: state?.error, in: bottom, app: app, focused: false)
    }
}
