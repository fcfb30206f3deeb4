package import FishServices
import Foundation

/// What `:cluster` shows, from the cluster state loaded: nodes, problems and worker tasks.
package enum ClusterRows {
    /// The nodes box's title: the backends in use.
    package static func nodesTitle(_ state: ClusterService.State?) -> String {
        state.map { "nodes (\($0.backends.joined(separator: ", ")))" } ?? "nodes"
    }

    /// One row per node, then the backends' problems in the error role.
    package static func nodes(_ state: ClusterService.State?) -> [Table.Row] {
        (state?.nodes ?? []).map { node in
            Table.Row([
                node.name, node.state, "\(node.cpus)", "\(node.allocatedCPUs)",
                node.load.map { String(format: "%.2f", $0) } ?? "-", node.memoryMB.map(String.init) ?? "-",
            ])
        } + (state?.problems ?? []).map { Table.Row([$0], role: "ui.error") }
    }

    /// The tasks box's title: how many tasks are in each state.
    package static func tasksTitle(_ state: ClusterService.State?) -> String {
        let counts = (state?.tasksByState ?? [:]).sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
        return counts.isEmpty ? "tasks" : "tasks: \(counts.joined(separator: ", "))"
    }

    /// One row per unfinished task: worker, CPU, memory, a progress bar and why it waits; running
    /// tasks stand out, failed ones in the failure role.
    package static func tasks(_ state: ClusterService.State?, glyphs: Glyphs) -> [Table.Row] {
        (state?.tasks ?? []).map { task in
            let fraction = task.total.map { Double(task.done ?? 0) / Double(max($0, 1)) } ?? 0
            let role = task.state == "RUNNING" ? "status.running" : task.state == "PENDING" ? "table.row" : "status.failed"
            return Table.Row(
                [
                    String(task.runId.prefix(8)), task.taskId, task.state, task.worker ?? "-",
                    task.cpuPercent.map { String(format: "%.0f", $0) } ?? "-", task.rssBytes.map { "\($0 / 1_048_576)" } ?? "-",
                    glyphs.bar(fraction, width: 6) + (task.total.map { " \(task.done ?? 0)/\($0)" } ?? ""), task.reason ?? "",
                ], role: role)
        }
    }
}
