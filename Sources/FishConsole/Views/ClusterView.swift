import FishServices
import Foundation

/// `:cluster`: the nodes that run FishOps work and their tasks. With the embedded defaults that is
/// this machine and the console's training job; worker pools and Slurm add rows here when they land.
final class ClusterView: ConsoleView {
    let name = "cluster", title = "cluster"
    let actions: [Action] = []
    private var node: Loader<LocalNode>?

    var isStale: Bool { node?.isStale() ?? false }

    func refresh(_ app: ConsoleApp, force: Bool) {
        if node == nil { node = app.loader(interval: 2) }
        if force { node?.load { LocalNode.read() } } else { node?.refreshIfDue { LocalNode.read() } }
    }

    func handle(_ key: Key, action: Action?, app: ConsoleApp) -> Bool { false }

    func render(_ canvas: inout Canvas, in area: Rect, app: ConsoleApp) {
        let (top, bottom) = area.split(top: 5)
        canvas.box(top, title: "nodes", glyphs: app.settings.glyphs, style: app.style("ui.border.focus"), titleStyle: app.style("ui.title"))
        var nodes = Table(columns: [.init("node", width: 14), .init("state", width: 6), .init("cores", width: 5),
                                    .init("load", width: 6), .init("memory free", width: 16), .init("current task")])
        let job = app.training?.snapshot
        let task = job.map { $0.finished ? "-" : "training: \($0.stage?.rawValue ?? "starting") \($0.done)/\($0.total)" } ?? "-"
        if let node = node?.value {
            nodes.update([Table.Row(["local", "up", "\(node.cores)", String(format: "%.2f", node.load),
                                     String(format: "%.1f of %.1f GiB", node.availableGiB, node.totalGiB), task])])
        }
        nodes.render(&canvas, in: top.inset(1), app: app, focused: false)

        canvas.box(bottom, title: "tasks", glyphs: app.settings.glyphs, style: app.style("ui.border"), titleStyle: app.style("ui.title"))
        var tasks = Table(columns: [.init("task", width: 24), .init("state", width: 9), .init("stage", width: 9), .init("progress")])
        if let job, let spec = app.training?.spec {
            let state = job.report != nil ? "FINISHED" : job.error != nil ? "STOPPED" : "RUNNING"
            let fraction = job.total > 0 ? Double(job.done) / Double(job.total) : 0
            tasks.update([Table.Row(["train \(spec.model)", state, job.stage?.rawValue ?? "-",
                                     "\(app.settings.glyphs.bar(fraction, width: 20)) \(job.done)/\(job.total)"],
                                    role: state == "RUNNING" ? "status.running" : state == "FINISHED" ? "status.finished" : "status.failed")])
        }
        tasks.render(&canvas, in: bottom.inset(1), app: app, focused: false)
    }
}
