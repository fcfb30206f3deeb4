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
        let nodeRows = max(value?.nodes.count ?? 1, 1)
        let (top, bottom) = area.split(top: min(nodeRows + 4, area.height / 2))
        let backends = value.map { "nodes (\($0.backends.joined(separator: ", ")))" } ?? "nodes"
        canvas.box(
            top, title: backends, glyphs: app.settings.glyphs, style: app.style("ui.border.focus"),
            titleStyle: app.style("ui.title"))
        var nodes = Table(columns: [
            .init("node", width: 16), .init("state", width: 18), .init("cpus", width: 5),
            .init("busy", width: 5), .init("load", width: 6), .init("memory MB"),
        ])
        nodes.update(
            (value?.nodes ?? []).map { node in
                Table.Row([
                    node.name, node.state, "\(node.cpus)", "\(node.allocatedCPUs)",
                    node.load.map { String(format: "%.2f", $0) } ?? "-",
                    node.memoryMB.map(String.init) ?? "-",
                ])
            } + (value?.problems ?? []).map { Table.Row([$0], role: "ui.error") })
        nodes.render(&canvas, in: top.inset(1), app: app, focused: false)

        let counts = (value?.tasksByState ?? [:]).sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(
            separator: ", ")
        canvas.box(
            bottom, title: counts.isEmpty ? "tasks" : "tasks: \(counts)", glyphs: app.settings.glyphs,
            style: app.style("ui.border"),
            titleStyle: app.style("ui.title"))
        var tasks = Table(columns: [
            .init("run", width: 8), .init("task", width: 13), .init("state", width: 9), .init("worker", width: 11),
            .init("cpu%", width: 4), .init("MB", width: 5), .init("progress", width: 14), .init("reason"),
        ])
        tasks.update(
            (value?.tasks ?? []).map { task in
                let fraction = task.total.map { Double(task.done ?? 0) / Double(max($0, 1)) } ?? 0
                let role = task.state == "RUNNING" ? "status.running" : task.state == "PENDING" ? "table.row" : "status.failed"
                return Table.Row(
                    [
                        String(task.runId.prefix(8)), task.taskId, task.state, task.worker ?? "-",
                        task.cpuPercent.map { String(format: "%.0f", $0) } ?? "-",
                        task.rssBytes.map { "\($0 / 1_048_576)" } ?? "-",
                        app.settings.glyphs.bar(fraction, width: 6) + (task.total.map { " \(task.done ?? 0)/\($0)" } ?? ""),
                        task.reason ?? "",
                    ], role: role)
            })
        tasks.render(&canvas, in: bottom.inset(1), app: app, focused: false)
    }
}
