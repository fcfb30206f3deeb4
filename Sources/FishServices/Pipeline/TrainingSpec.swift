public import FishImaging
import FishNeural
import Foundation

/// Everything a training run needs to know; the CLI and the console fill it in.
public struct TrainingSpec: Sendable, Codable, Equatable {
    /// How trials choose their hyperparameters.
    public enum Search: String, Sendable, Codable, CaseIterable {
        /// Log-uniform learning rate and weight decay, uniform label smoothing, a hidden size from a list.
        case random
        /// The first trials of a shuffled grid.
        case grid
    }

    /// The image folder (`<class>/<image>`), or the base of the manifest's relative paths.
    public var data: String
    /// A CSV manifest `path,label[,group]`; the folder layout is used when nil.
    public var manifest: String?
    /// A regular expression whose first capture group (or match) in a file name is the image's
    /// group, for images the manifest gives none (`FileNameGroups`).
    public var groupBy: String?
    /// Join each image to its most similar image of its class when their backbone embeddings'
    /// cosine similarity reaches this (0.5 to 1), so frames of one track form groups without
    /// a manifest; nil leaves groups to near duplicates, the manifest and `groupBy`.
    public var groupSimilar: Double?
    public var experiment = "fish-training"
    public var model = "fish-classifier"
    /// The registered backbone whose embeddings are trained on.
    public var backbone = FishConfig.baseModelName
    /// The preset the spec started from, when one was named (recorded as the run's `preset` param).
    public var preset: TrainingPreset?
    public var seed: UInt64 = 0
    /// Number of head-training trials; 1 trains `hyperparameters` as given.
    public var trials = 1
    public var search = Search.random
    public var hyperparameters = HeadHyperparameters()
    /// Augmented views of each training image, on top of the image itself (each costs one more
    /// backbone pass per training image the first time).
    public var augmentedViews = 0
    /// How images are fitted to the backbone's square input (recorded in the package).
    public var fit = ImageFit.centerCrop
    public var validationFraction = 0.15
    public var testFraction = 0.15
    /// Largest perceptual-hash Hamming distance (of 256 bits) at which two images count as near duplicates.
    public var nearDuplicateDistance = 24
    /// Where and how the worker tasks run.
    public var cluster = ClusterOptions()
    /// Move `production` to the new version when the promotion gate passes.
    public var promoteIfBetter = false
    /// Fine-tune the backbone's last blocks after the head-only trials (nil: head only).
    public var finetune: FineTuneSettings?

    public init(data: String) {
        self.data = data
    }

    /// The preprocessing the features and the package use: the backbone's own (its input size
    /// and normalisation) with this spec's fit.
    public func preprocessing(backbone: Preprocessing) -> Preprocessing {
        var preprocessing = backbone
        preprocessing.fit = fit
        return preprocessing
    }

    /// What is wrong with the spec, or nil.
    public var problem: String? {
        if let problem = hyperparameters.problem { return problem }
        if trials < 1 || trials > 1000 { return "trials must be 1 to 1000" }
        if augmentedViews < 0 || augmentedViews > 16 { return "augmented views must be 0 to 16" }
        if !(validationFraction > 0 && testFraction > 0 && validationFraction + testFraction < 0.9) {
            return "validation and test fractions must be positive and leave at least 10% for training"
        }
        if nearDuplicateDistance < 0 || nearDuplicateDistance > 96 {
            return "near-duplicate distance must be 0 to 96 bits (of 256)"
        }
        if let groupBy, (try? FileNameGroups(groupBy)) == nil {
            return "--group-by \(groupBy.debugDescription) is not a regular expression"
        }
        if let groupSimilar, !(0.5...1).contains(groupSimilar) {
            return "--group-similar must be a cosine similarity from 0.5 to 1"
        }
        if let problem = cluster.problem { return problem }
        // The backbone's own block count is checked when the run starts.
        let blocks = EfficientNetLite.family.map(\.blocks.count).max() ?? 0
        if let problem = finetune?.problem(blocks: blocks) { return problem }
        return nil
    }

    /// The hyperparameters of each trial: the given ones for a single trial, else drawn by `search`.
    public func trialHyperparameters() -> [HeadHyperparameters] {
        let settings = searchedHyperparameters()
        // Fine-tuning continues from a linear head.
        return finetune == nil
            ? settings
            : settings.map {
                var linear = $0
                linear.hidden = 0
                return linear
            }
    }

    private func searchedHyperparameters() -> [HeadHyperparameters] {
        guard trials > 1 else { return [hyperparameters] }
        var random = SeededRandom(seed, 0x7472_6961_6C73)  // "trials"
        switch search {
        case .random:
            return (0..<trials).map { _ in
                var settings = hyperparameters
                settings.learningRate = pow(10, Double.random(in: -3.7 ... -2.3, using: &random))
                settings.weightDecay = pow(10, Double.random(in: -5 ... -1, using: &random))
                settings.labelSmoothing = Double.random(in: 0...0.2, using: &random)
                settings.hidden = [0, 0, 256, 512].randomElement(using: &random) ?? 0
                return settings
            }
        case .grid:
            var grid: [HeadHyperparameters] = []
            for learningRate in [3e-4, 1e-3, 3e-3] {
                for weightDecay in [1e-4, 1e-2] {
                    for labelSmoothing in [0.0, 0.1] {
                        for hidden in [0, 256] {
                            var settings = hyperparameters
                            (settings.learningRate, settings.weightDecay) = (learningRate, weightDecay)
                            (settings.labelSmoothing, settings.hidden) = (labelSmoothing, hidden)
                            grid.append(settings)
                        }
                    }
                }
            }
            grid.shuffle(using: &random)
            return Array(grid.prefix(trials))
        }
    }
}
