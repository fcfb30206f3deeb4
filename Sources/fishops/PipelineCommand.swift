import ArgumentParser
import FishServices
import Foundation

struct Pipeline: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect and resume training pipelines (validate, extract, train, evaluate, register, gate, promote, report).",
        subcommands: [Show.self, Resume.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A pipeline run's stages and worker tasks.")

        @Argument(help: "The run id (or a unique prefix).")
        var runId: String

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let context = try makeContext()
            let status = try reporting { try ClusterService(context: context).pipeline(runId: runId) }
            if json {
                print(jsonLine(status))
                return
            }
            print("run \(status.runId) (\(status.runStatus)) on backend \(status.backend)")
            if status.coordinator == "gone" {
                print(
                    "no process is coordinating it (it was killed, or could not record its end, e.g. on a full disk); "
                        + "continue it with `fishops pipeline resume \(status.runId)`")
            }
            print(table(["stage", "state", "detail"], status.stages.map { [$0.stage, $0.state.rawValue, $0.detail] }))
            print("")
            print(
                table(
                    ["task", "state", "attempts", "worker", "progress", "reason"],
                    status.tasks.map { task in
                        [
                            task.taskId, task.state, "\(task.attempts)", task.worker ?? "",
                            task.total.map { "\(task.done ?? 0)/\($0)" } ?? "", task.reason ?? "",
                        ]
                    }))
        }
    }

    struct Resume: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Continue a pipeline whose coordinator died or was stopped, without redoing finished work.")

        @Argument(help: "The run id (or a unique prefix).")
        var runId: String

        @Option(help: "Run the remaining tasks on another backend: local or slurm.")
        var backend: String?

        @Option(help: "Compute threads (default: all cores, or $FISHOPS_THREADS).")
        var threads: Int?

        @Flag(help: "Print one JSON object with the run, model version and metrics at the end (as `train --json`).")
        var json = false

        func validate() throws {
            if let backend, ClusterOptions.Backend(rawValue: backend) == nil {
                throw ValidationError("--backend must be local or slurm")
            }
        }

        func run() throws {
            let service = TrainingService(context: try makeContext(threads: threads))
            let backend = self.backend.flatMap(ClusterOptions.Backend.init(rawValue:))
            try runTraining(json: json) { cancellation, events in
                try service.resume(runId: runId, backend: backend, cancellation: cancellation, events: events)
            }
        }
    }
}
