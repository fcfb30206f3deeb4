import FishNeural

/// The stages of a training pipeline, in order: what the store records per run (`pipeline` in the
/// run's JSON) and what `TrainingEvent` reports as the job moves on. `validate` scans, checks and
/// splits the data; `extract` embeds every image view; `train` fits the head's trials.
public enum PipelineStageName: String, Sendable, Codable, CaseIterable {
    case validate, extract, train, finetune, evaluate, register, gate, promote, report
}

/// What a running training job reports to its watchers (CLI progress bars, the console).
public enum TrainingEvent: Sendable {
    case started(runId: String)
    case stage(PipelineStageName)
    case progress(PipelineStageName, done: Int, total: Int)
    case checked(DatasetCheck)
    case epoch(trial: Int, EpochRecord)
    /// An epoch of the fine-tuning stage.
    case fineTuneEpoch(EpochRecord)
    case trialFinished(trial: Int, HeadHyperparameters, validationLoss: Double, validationAccuracy: Double)
}

extension EpochRecord {
    /// The epoch's figures as metric points at its step, each key after `prefix` (`finetune_` for
    /// the fine-tuning stage, none for a head's trial).
    func metricPoints(prefix: String = "") -> [MetricPoint] {
        [
            ("train_loss", trainLoss), ("train_accuracy", trainAccuracy), ("val_loss", validationLoss),
            ("val_accuracy", validationAccuracy), ("learning_rate", learningRate),
        ].map { MetricPoint(key: prefix + $0.0, value: $0.1, step: epoch) }
    }
}
