import ArgumentParser
import FishServices
import Foundation

struct Cluster: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Nodes or workers, tasks by state and queue reasons of the running pipelines.")

    @Option(help: "Also list this backend's nodes: local or slurm (default: the backends of running pipelines, else local).")
    var backend: String?

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if let backend, ClusterOptions.Backend(rawValue: backend) == nil {
            throw ValidationError("--backend must be local or slurm")
        }
    }

    func run() throws {
        let context = try makeContext()
        let state = try reporting {
            try ClusterService(context: context).state(backend: backend.flatMap(ClusterOptions.Backend.init(rawValue:)))
        }
        if json {
            print(jsonLine(state))
            return
        }
        print("backends: \(state.backends.joined(separator: ", "))")
        print(
            table(
                ["node", "state", "cpus", "allocated", "load", "memory MB", "reason"],
                state.nodes.map { node in
                    [
                        node.name, node.state, "\(node.cpus)", "\(node.allocatedCPUs)",
                        node.load.map { String(format: "%.2f", $0) } ?? "",
                        node.memoryMB.map(String.init) ?? "", node.reason ?? "",
                    ]
                }))
        for problem in state.problems { print("note: \(problem)") }
        print("")
        print("tasks: " + state.tasksByState.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        guard !state.tasks.isEmpty else { return print("no running pipeline") }
        print(
            table(
                ["run", "task", "state", "worker", "cpu%", "rss MB", "progress", "reason"],
                state.tasks.map { task in
                    [
                        String(task.runId.prefix(8)), task.taskId, task.state, task.worker ?? "",
                        task.cpuPercent.map { String(format: "%.0f", $0) } ?? "", task.rssBytes.map { "\($0 / 1_048_576)" } ?? "",
                        task.total.map { "\(task.done ?? 0)/\($0)" } ?? "", task.reason ?? "",
                    ]
                }))
    }
}
