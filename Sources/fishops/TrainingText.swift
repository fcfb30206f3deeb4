import FishServices
import Foundation

/// The dataset check as an operator reads it.
struct DatasetCheckText {
    let check: DatasetCheck

    var text: String {
        var lines = [
            "dataset: \(check.usableImages) usable images in \(check.classes.count) classes"
                + String(format: " (largest/smallest class %.2f)", check.imbalanceRatio)
        ]
        lines.append(table(["class", "images", "groups"], check.classes.map { [$0.label, "\($0.images)", "\($0.groups)"] }))
        lines.append(section("unreadable files (skipped)", check.unreadable.map { "\($0.path): \($0.reason)" }))
        lines.append(section("exact duplicates (first copy kept)", check.exactDuplicates.map { $0.joined(separator: " = ") }))
        lines.append(
            section(
                "near duplicates within \(check.nearDuplicateDistance) bits (kept on one side of the split)",
                check.nearDuplicates.map { $0.joined(separator: " ~ ") }))
        lines.append(
            section(
                "the same picture under different labels (left out)",
                check.conflictingLabels.map { $0.joined(separator: " ~ ") }))
        if check.similarPairs > 0 {
            lines.append("images grouped with their most similar image by embedding (--group-similar): \(check.similarPairs)")
        }
        lines.append(section("split warnings", check.splitWarnings))
        return lines.filter { !$0.isEmpty }.joined(separator: "\n")
    }

    private func section(_ title: String, _ items: [String]) -> String {
        guard !items.isEmpty else { return "" }
        let shown = items.prefix(10).map { "  \($0)" }
        let more = items.count > 10 ? ["  ... and \(items.count - 10) more (see the run's dataset_check.json)"] : []
        return (["\(title): \(items.count)"] + shown + more).joined(separator: "\n")
    }
}

/// A finished training run as an operator reads it: evaluation tables and the new version.
struct TrainingReportText {
    let report: TrainingReport

    var text: String {
        let evaluation = report.evaluation
        let metrics = report.metrics
        var lines = [
            "split: \(report.split.train) train, \(report.split.validation) validation, \(report.split.test) test images"
                + " (test set \(report.evaluationData))",
            "features: \(report.features.computed) computed, \(report.features.cached) from the cache",
            "",
            table(
                ["class", "support", "precision", "recall", "F1"],
                evaluation.perClass.map {
                    [$0.label, "\($0.support)", format($0.precision), format($0.recall), format($0.f1)]
                }),
            "",
            "confusion matrix (rows: actual, columns: predicted)",
            table(
                [""] + evaluation.perClass.indices.map { "\($0)" },
                evaluation.confusion.enumerated().map {
                    ["\($0.offset) \(evaluation.perClass[$0.offset].label)"] + $0.element.map { "\($0)" }
                }),
            "",
            String(
                format: "test accuracy %.4f   macro-F1 %.4f   ECE %.4f   (%d test images)",
                evaluation.accuracy, evaluation.macroF1, evaluation.expectedCalibrationError, evaluation.count),
            String(
                format: "time: %.1f s total (scan %.1f, features %.1f, train %.1f)", report.seconds["total"] ?? 0,
                report.seconds["scan"] ?? 0, report.seconds["features"] ?? 0, report.seconds["train"] ?? 0),
        ]
        if let rate = metrics["feature_images_per_second"] {
            lines.append(String(format: "feature extraction: %.1f images/s", rate))
        }
        if let epochs = report.finetune, let best = report.metrics["finetune_best_epoch"] {
            lines.append(
                String(
                    format: "fine-tuned %d epoch(s), best epoch %.0f (validation loss %.4f)", epochs.count, best,
                    report.metrics["val_loss"] ?? 0))
        }
        let pipeline = report.pipeline
        lines.append(
            "workers (\(pipeline.backend)): \(pipeline.extract.total) extraction shards (\(pipeline.extract.reused) reused), "
                + "\(pipeline.trials.total) trials, \(pipeline.extract.retries + pipeline.trials.retries) task retries")
        lines.append("registered \(report.model.name) v\(report.model.version) (alias staging) from run \(report.runId)")
        lines.append("gate: " + pipeline.gate.explanation + (pipeline.gate.passed ? " (passed)" : " (refused)"))
        if pipeline.promoted {
            lines.append("promoted: production → v\(report.model.version)")
        } else {
            lines.append("promote it with: fishops models promote \(report.model.name) \(report.model.version) --reason \"...\"")
        }
        return lines.joined(separator: "\n")
    }

    private func format(_ value: Double) -> String { String(format: "%.3f", value) }
}
