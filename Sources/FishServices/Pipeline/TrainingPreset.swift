import FishNeural

/// Named starting points for a training run; options given beside a preset override its choices.
/// `docs/training.md` has the measurements behind them and what each costs.
public enum TrainingPreset: String, Sendable, Codable, CaseIterable {
    /// Lite0, centre crop, head only: the quickest run, and every option's own default.
    case fast
    /// Lite2 (`make weights-lite2`) with its last four blocks fine-tuned: the most accurate on small,
    /// hard data sets, at several times the cost.
    case accurate

    /// Sets the preset's backbone, fit and fine-tuning on `spec`.
    public func apply(to spec: inout TrainingSpec) {
        spec.preset = self
        switch self {
        case .fast:
            spec.backbone = FishConfig.baseModelName
            spec.fit = .centerCrop
            spec.finetune = nil
        case .accurate:
            spec.backbone = FishConfig.baseModelName(.lite2)
            spec.fit = .centerCrop
            var settings = FineTuneSettings()
            settings.unfreezeFrom = EfficientNetLite.lite2.blocks.count - 4
            spec.finetune = settings
        }
    }
}
