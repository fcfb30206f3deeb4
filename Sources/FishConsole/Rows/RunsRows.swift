package import FishServices
import Foundation

/// What `:runs` shows, from the runs loaded: which runs in which order, the metric column, the rows.
package enum RunsRows {
    /// The sort orders `s` steps through.
    package static let sorts = ["newest", "name", "status", "best"]

    /// Metric keys present in the runs, the gate's and validation metrics first, then the most common.
    package static func metricKeys(_ runs: [RunSummary]) -> [String] {
        var counts: [String: Int] = [:]
        for run in runs { for metric in run.metrics { counts[metric.key, default: 0] += 1 } }
        let preferred = ["test_macro_f1", "val_accuracy", "val_loss"]
        return counts.keys.sorted { a, b in
            let (pa, pb) = (preferred.firstIndex(of: a) ?? 99, preferred.firstIndex(of: b) ?? 99)
            return pa != pb ? pa < pb : counts[a] ?? 0 != counts[b] ?? 0 ? counts[a] ?? 0 > counts[b] ?? 0 : a < b
        }
    }

    /// The runs that match `filter`, sorted by `sort`, and the metric chosen by `metricIndex`
    /// (counted round the keys present).
    package static func visible(_ all: [RunSummary], filter: String, sort: String, metricIndex: Int) -> (
        runs: [RunSummary], metric: String?
    ) {
        let keys = metricKeys(all)
        let metric = keys.isEmpty ? nil : keys[metricIndex % keys.count]
        var runs = all.filter {
            filter.isEmpty
                || "\($0.run.name) \($0.experiment) \($0.run.status.rawValue) \($0.run.id)".localizedCaseInsensitiveContains(
                    filter)
        }
        let summary = { (run: RunSummary) in run.metrics.first { $0.key == metric } }
        switch sort {
        case "name": runs.sort { $0.run.name < $1.run.name }
        case "status": runs.sort { $0.run.status.rawValue < $1.run.status.rawValue }
        case "best":
            runs.sort { a, b in
                guard let x = summary(a) else { return false }
                guard let y = summary(b) else { return true }
                return x.direction.prefers(x.bestValue, over: y.bestValue)
            }
        default: runs.sort { $0.run.startTime > $1.run.startTime }
        }
        return (runs, metric)
    }

    /// The title of the metric column.
    package static func metricColumn(_ metric: String?) -> String { metric.map { "\($0) best / last" } ?? "metrics" }

    /// One row per run: trials indented under their parent, coloured by status, marked runs marked.
    package static func rows(_ runs: [RunSummary], metric: String?, marked: Set<String>) -> [Table.Row] {
        runs.map { run in
            let value =
                run.metrics.first { $0.key == metric }.map {
                    "\(Format.number($0.bestValue)) / \(Format.number($0.lastValue))"
                } ?? ""
            let name = (run.run.parentRunId != nil ? "  " : "") + run.run.name
            return Table.Row(
                [name, run.experiment, run.run.status.rawValue, Format.date(run.run.startTime), value],
                role: Format.role(run.run.status), marked: marked.contains(run.run.id))
        }
    }

    package static func title(count: Int, sort: String, filter: String, marked: Int) -> String {
        var title = "runs (\(count))  sort: \(sort)"
        if !filter.isEmpty { title += "  filter: \(filter)" }
        if marked > 0 { title += "  marked: \(marked)" }
        return title
    }
}
