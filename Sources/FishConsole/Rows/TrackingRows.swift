package import FishServices
import Foundation

/// What a run's detail and the comparison of marked runs show, from what tracking returned.
package enum TrackingRows {
    /// A run's facts, parameters (by name), a blank line, then each metric's best and last value,
    /// as (label, value) pairs; `mlflowRunID` is the run's id on the MLflow server it is mirrored to.
    package static func facts(_ detail: RunDetail, mlflowRunID: String? = nil) -> [(label: String, value: String)] {
        let run = detail.run
        var lines: [(label: String, value: String)] = [
            ("experiment", detail.experiment), ("id", String(run.id.prefix(12))),
            ("started", Format.date(run.startTime)), ("by", "\(run.user)@\(run.host)"),
        ]
        if let mlflowRunID { lines.append(("mlflow run", mlflowRunID)) }
        lines += detail.params.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        lines.append(("", ""))
        lines += detail.metrics.map { ($0.key, "\(Format.number($0.bestValue)) / \(Format.number($0.lastValue))") }
        return lines
    }

    /// The metric a run's chart shows: the `index`-th (round) of those with a history, else of all.
    package static func chartedMetric(_ metrics: [MetricSummary], index: Int) -> String? {
        let keys = metrics.filter { $0.count > 1 }.map(\.key)
        let all = keys.isEmpty ? metrics.map(\.key) : keys
        return all.isEmpty ? nil : all[index % all.count]
    }

    /// The test evaluation's headline figures.
    package static func evaluationTitle(_ metrics: ClassificationMetrics) -> String {
        String(
            format: "test: accuracy %.3f  macro-F1 %.3f  ECE %.3f", metrics.accuracy, metrics.macroF1,
            metrics.expectedCalibrationError)
    }

    /// One row per class: support, precision, recall, F1 and its row of the confusion matrix.
    package static func perClass(_ metrics: ClassificationMetrics) -> [Table.Row] {
        metrics.perClass.enumerated().map { index, row in
            Table.Row([
                row.label, "\(row.support)", String(format: "%.2f", row.precision), String(format: "%.2f", row.recall),
                String(format: "%.2f", row.f1), metrics.confusion[index].map { String($0) }.joined(separator: " "),
            ])
        }
    }

    /// The parameters that differ between the runs, by name, then every metric's best and last per run (muted).
    package static func comparison(_ comparison: TrackingService.Comparison) -> [Table.Row] {
        let params = comparison.differingParams.sorted { $0.key < $1.key }.map { key, values in
            Table.Row([key] + values.map { $0 ?? "-" })
        }
        let metrics = comparison.metrics.sorted { $0.key < $1.key }.map { key, values in
            Table.Row(
                [key] + values.map { $0.map { "\(Format.number($0.best)) / \(Format.number($0.last))" } ?? "-" }, role: "ui.muted"
            )
        }
        return params + metrics
    }
}
