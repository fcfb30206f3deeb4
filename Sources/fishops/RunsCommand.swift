import ArgumentParser
import FishServices
import Foundation

struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tracked runs: list, show, compare.", subcommands: [List.self, Show.self, Compare.self])

    /// "best/last" of a metric, compactly.
    static func bestLast(_ summary: MetricSummary) -> String {
        String(format: "%@ %.4g/%.4g", summary.key, summary.bestValue, summary.lastValue)
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List runs, newest first, with best/last metric values.")
        @Option(help: "Only runs of this experiment.") var experiment: String?
        @Option(help: "At most this many runs.") var limit: Int?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let runs = try reporting {
                try TrackingService(context: try makeContext()).runs(experiment: experiment, limit: limit)
            }
            if json { return print(jsonLine(runs)) }
            print(
                table(
                    ["RUN", "NAME", "EXPERIMENT", "STATUS", "STARTED", "METRICS (best/last)"],
                    runs.map { entry in
                        [
                            String(entry.run.id.prefix(8)), entry.run.name, entry.experiment, entry.run.status.rawValue,
                            shortDate(entry.run.startTime), entry.metrics.map(Runs.bestLast).joined(separator: "  "),
                        ]
                    }))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one run: params, tags, metrics, artifacts.")
        @Argument(help: "Run id or unique prefix.") var runReference: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let detail = try reporting { try TrackingService(context: try makeContext()).run(runReference) }
            if json { return print(jsonLine(detail)) }
            let r = detail.run
            print("run \(r.id)  \(r.name)  [\(r.status.rawValue)]")
            print(
                "experiment \(detail.experiment), by \(r.user)@\(r.host), started \(shortDate(r.startTime))"
                    + (r.endTime.map { ", ended \(shortDate($0))" } ?? ""))
            if let data = r.datasetFingerprint { print("dataset \(data)") }
            if let parent = r.parentRunId { print("parent run \(parent)") }
            if !detail.params.isEmpty {
                print(
                    "\nparams:\n" + table(["KEY", "VALUE"], detail.params.sorted { $0.key < $1.key }.map { [$0.key, $0.value] }))
            }
            if !detail.metrics.isEmpty {
                print(
                    "\nmetrics:\n"
                        + table(
                            ["KEY", "BEST", "AT STEP", "LAST", "AT STEP", "POINTS"],
                            detail.metrics.map { m in
                                [
                                    m.key + (m.direction == .min ? " (min)" : " (max)"), String(format: "%.6g", m.bestValue),
                                    "\(m.bestStep)",
                                    String(format: "%.6g", m.lastValue), "\(m.lastStep)", "\(m.count)",
                                ]
                            }))
            }
            if !detail.tags.isEmpty {
                print("\ntags:\n" + table(["KEY", "VALUE"], detail.tags.sorted { $0.key < $1.key }.map { [$0.key, $0.value] }))
            }
            if !detail.artifacts.isEmpty {
                print(
                    "\nartifacts:\n"
                        + table(
                            ["PATH", "SIZE", "SHA256"],
                            detail.artifacts.map { [$0.path, "\($0.size)", String($0.sha256.prefix(16))] }))
            }
        }
    }

    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare runs: the params that differ, best and last value per metric.")
        @Argument(help: "Two or more run ids or unique prefixes.") var runs: [String]
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let comparison = try reporting { try TrackingService(context: try makeContext()).compare(runs) }
            if json { return print(jsonLine(comparison)) }
            let header = [""] + zip(comparison.runs, comparison.names).map { "\($0.prefix(8)) \($1)" }
            var rows = comparison.differingParams.sorted { $0.key < $1.key }.map { key, values in
                ["param \(key)"] + values.map { $0 ?? "-" }
            }
            if rows.isEmpty { rows.append(["(all params equal)"] + comparison.runs.map { _ in "" }) }
            for (key, values) in comparison.metrics.sorted(by: { $0.key < $1.key }) {
                let direction = comparison.directions[key] == .min ? "min" : "max"
                rows.append(["\(key) best (\(direction))"] + values.map { $0.map { String(format: "%.6g", $0.best) } ?? "-" })
                rows.append(["\(key) last"] + values.map { $0.map { String(format: "%.6g", $0.last) } ?? "-" })
            }
            print(table(header, rows))
        }
    }
}
