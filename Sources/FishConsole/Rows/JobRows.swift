package import FishServices
import Foundation

/// What `:train` and `:classify` show of a job, from its state or results.
package enum JobRows {
    /// A training job in one line: its result, why it stopped, or its stage with a progress bar;
    /// then its run.
    package static func training(_ state: TrainingMonitor.State, glyphs: Glyphs) -> StyledLine {
        var line: String
        if let report = state.report {
            line = String(
                format: "finished: %@ v%d (staging)  test accuracy %.4f  macro-F1 %.4f  %.1f s", report.model.name,
                report.model.version, report.evaluation.accuracy, report.evaluation.macroF1, report.seconds["total"] ?? 0)
        } else if let error = state.error {
            line = "stopped: \(error)"
        } else {
            let stage = state.stage?.rawValue ?? "starting"
            let fraction = state.total > 0 ? Double(state.done) / Double(state.total) : 0
            line = "\(stage) [\(glyphs.bar(fraction, width: 24))] \(state.done)/\(state.total)"
        }
        if let runId = state.runId { line += "  run \(runId.prefix(8))" }
        return StyledLine(line, role: state.error != nil ? "ui.error" : state.report != nil ? "ui.good" : "status.running")
    }

    /// One row per classified file: its top class and probability, or why it failed.
    package static func classified(_ results: [(file: String, predictions: [Prediction]?, error: String?)]) -> [Table.Row] {
        results.map { result in
            let best = result.predictions?.first
            return Table.Row(
                [
                    result.file, best?.label ?? (result.error ?? "failed"),
                    best.map { String(format: "%.3f", $0.probability) } ?? "",
                ],
                role: result.error == nil ? "table.row" : "status.failed")
        }
    }
}
