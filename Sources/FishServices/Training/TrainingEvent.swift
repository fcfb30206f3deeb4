import FishNeural

/// The stages of a training run, in order.
public enum TrainingStage: String, Sendable, Codable, CaseIterable {
    case scan, split, features, train, finetune, evaluate, register
}

/// What a running training job reports to its watchers (CLI progress bars, the console).
public enum TrainingEvent: Sendable {
    case started(runId: String)
    case stage(TrainingStage)
    case progress(TrainingStage, done: Int, total: Int)
    case checked(DatasetCheck)
    case epoch(trial: Int, EpochRecord)
    /// An epoch of the fine-tuning stage.
    case fineTuneEpoch(EpochRecord)
    case trialFinished(trial: Int, HeadHyperparameters, validationLoss: Double, validationAccuracy: Double)
}
