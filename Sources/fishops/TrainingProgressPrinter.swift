import FishServices
import Foundation

/// Shows a training job's events on standard error: a progress bar per stage on a terminal,
/// the dataset check and one line per finished trial.
final class TrainingProgressPrinter: @unchecked Sendable {
    private let lock = NSLock()
    private let terminal: Bool
    private let quiet: Bool
    private var bar: ProgressBar?

    init(terminal: Bool, quiet: Bool) {
        self.terminal = terminal
        self.quiet = quiet
    }

    /// Handles one event (from any thread).
    func handle(_ event: TrainingEvent) {
        lock.withLock {
            switch event {
            case let .started(runId):
                say("run \(runId)")
            case let .stage(stage):
                bar?.clear()
                bar = ProgressBar(
                    total: 0, enabled: terminal && !quiet, label: stage.rawValue,
                    unit: stage == .train ? "trials" : stage == .finetune ? "epochs" : "images")
            case let .progress(_, done, total):
                bar?.update(done: done, total: total)
            case let .checked(check):
                say(DatasetCheckText(check: check).text)
            case .epoch:
                break
            case let .fineTuneEpoch(record):
                say(
                    String(
                        format: "fine-tuning epoch %d: train loss %.4f, val loss %.4f, val accuracy %.4f", record.epoch,
                        record.trainLoss, record.validationLoss, record.validationAccuracy))
            case let .trialFinished(trial, settings, loss, accuracy):
                say(
                    String(
                        format: "trial %d: lr %.2g, wd %.2g, smoothing %.2f, hidden %d -> val loss %.4f, val accuracy %.4f",
                        trial, settings.learningRate, settings.weightDecay, settings.labelSmoothing, settings.hidden,
                        loss, accuracy))
            }
        }
    }

    /// Erases the last progress bar.
    func finish() {
        lock.withLock { bar?.clear() }
    }

    private func say(_ text: String) {
        guard !quiet else { return }
        bar?.clear()
        printError(text)
    }
}
