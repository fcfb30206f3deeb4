import ArgumentParser
import FishBenchmarks
import FishServices
import Foundation

struct ClusterSpeed: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Feature-extraction throughput with 1 and 2 local workers, and the Slurm backend's overhead, in scratch homes.")

    @Option(help: "Image folder (default: $FISHOPS_DATA, else the current folder).")
    var data: String?
    @Flag(help: "Also run on the Slurm cluster SLURM_CONF points at.") var slurm = false
    @Flag(help: "Print the report as JSON.") var json = false

    func run() throws {
        let context = try makeContext()
        let report = try reporting {
            try ClusterBenchmark(context: context).run(data: context.config.imageFolder(data), slurm: slurm) {
                if !json { printError("running \($0)") }
            }
        }
        if json { return print(jsonLine(report)) }
        print(
            table(
                ["backend", "workers", "threads each", "images", "features s", "images/s", "total s", "test macro-F1"],
                report.rows.map { row in
                    [
                        row.backend, "\(row.workers)", "\(row.threadsPerWorker)", "\(row.images)",
                        String(format: "%.2f", row.featureSeconds),
                        String(format: "%.1f", row.featureImagesPerSecond), String(format: "%.2f", row.totalSeconds),
                        String(format: "%.4f", row.testMacroF1),
                    ]
                }))
        if let seconds = report.slurmOverheadSeconds, let ratio = report.slurmOverheadRatio {
            print(
                String(
                    format: "slurm overhead versus the local 2-worker pool: %+.2f s (%.2fx the local run's time)", seconds, ratio)
            )
        }
    }
}
