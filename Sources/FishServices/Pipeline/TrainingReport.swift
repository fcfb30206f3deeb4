import FishNeural

/// The outcome of a training run. Its JSON form (snake_case keys) is the `train --json` contract:
/// `run_id`, `model {name, version}`, `metrics {test_accuracy, test_macro_f1, ...}`, and the details.
public struct TrainingReport: Sendable, Codable {
    public struct TrialSummary: Sendable, Codable {
        public let trial: Int
        public let runId: String
        public let hyperparameters: HeadHyperparameters
        public let epochs: Int
        public let validationLoss: Double
        public let validationAccuracy: Double
    }

    public struct SplitSizes: Sendable, Codable, Equatable {
        public let train: Int
        public let validation: Int
        public let test: Int
    }

    public let runId: String
    public let model: ClassificationService.ModelReference
    /// Flat figures, also logged on the run: test_accuracy, test_macro_f1, test_ece, val_loss, ...
    public let metrics: [String: Double]
    public let check: DatasetCheck
    public let split: SplitSizes
    /// The fingerprint of the test split (the promotion gate's "evaluation data").
    public let evaluationData: String
    public let evaluation: ClassificationMetrics
    public let trials: [TrialSummary]
    public let bestTrial: Int
    public let features: FeatureExtractor.Counters
    /// Seconds per stage, and in total.
    public let seconds: [String: Double]
    /// How the pipeline ran: backend, tasks, gate and promotion.
    public let pipeline: PipelineSummary
    /// Fine-tuning epochs (nil for a head-only run).
    public let finetune: [EpochRecord]?

    public struct PipelineSummary: Sendable, Codable {
        public let backend: String
        public let extract: StageTasks.Figures
        public let trials: StageTasks.Figures
        /// The fine-tuning task, when the backbone was fine-tuned.
        public let finetune: StageTasks.Figures?
        public let gate: RegistryService.GateResult
        /// Whether `production` now points at the new version.
        public let promoted: Bool
    }
}
