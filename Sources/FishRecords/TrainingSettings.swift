// How a training run trains: the settings the interfaces fill in and the engines follow, and the
// figures each epoch reports back.

/// Settings of one head-training trial.
public struct HeadHyperparameters: Sendable, Codable, Equatable, Hashable {
    public var learningRate: Double
    public var weightDecay: Double
    public var labelSmoothing: Double
    /// Hidden layer width; 0 for a linear softmax classifier.
    public var hidden: Int
    public var epochs: Int
    public var batchSize: Int
    /// Epochs without a better validation loss before training stops.
    public var patience: Int
    /// Weighs each class's loss by the inverse of its frequency.
    public var classBalanced: Bool

    public init(
        learningRate: Double = 1e-3, weightDecay: Double = 1e-4, labelSmoothing: Double = 0.1, hidden: Int = 0,
        epochs: Int = 60, batchSize: Int = 64, patience: Int = 8, classBalanced: Bool = true
    ) {
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.labelSmoothing = labelSmoothing
        self.hidden = hidden
        self.epochs = epochs
        self.batchSize = batchSize
        self.patience = patience
        self.classBalanced = classBalanced
    }

    /// What is wrong with these settings, or nil.
    public var problem: String? {
        if !(learningRate > 0 && learningRate < 10) { return "learning rate must be in (0, 10)" }
        if !(weightDecay >= 0 && weightDecay < 1) { return "weight decay must be in [0, 1)" }
        if !(labelSmoothing >= 0 && labelSmoothing < 1) { return "label smoothing must be in [0, 1)" }
        if hidden < 0 || hidden > 8192 { return "hidden size must be 0 (none) to 8192" }
        if epochs < 1 || epochs > 10_000 { return "epochs must be 1 to 10000" }
        if batchSize < 1 || batchSize > 65_536 { return "batch size must be 1 to 65536" }
        if patience < 1 { return "patience must be at least 1" }
        return nil
    }
}

/// How the backbone is fine-tuned after the head-only warm-up.
public struct FineTuneSettings: Sendable, Codable, Equatable {
    /// The first trainable block (0-15; 0 trains the stem too, 16 only the head convolution).
    public var unfreezeFrom = 12
    public var epochs = 6
    public var batchSize = 32
    /// Learning rate of the classifier and head convolution; block `i` gets `layerDecay^depth` of it.
    public var learningRate = 1e-3
    public var layerDecay = 0.8
    /// Linear warm-up length, then a cosine decay to zero.
    public var warmupEpochs = 1.0
    /// Decoupled weight decay on convolution and classifier weights (not on batch norm or biases).
    public var weightDecay = 0.01
    public var labelSmoothing = 0.1
    /// Largest global L2 norm of the gradients.
    public var clipNorm = 1.0
    /// Epochs without a better validation loss before stopping.
    public var patience = 3

    public init() {}

    /// What is wrong with these settings for a backbone of `blocks` blocks, or nil.
    public func problem(blocks: Int) -> String? {
        if unfreezeFrom < 0 || unfreezeFrom > blocks { return "--unfreeze-from must be 0 to \(blocks)" }
        if epochs < 1 || epochs > 1000 { return "fine-tuning epochs must be 1 to 1000" }
        if batchSize < 1 || batchSize > 1024 { return "fine-tuning batch size must be 1 to 1024" }
        if !(learningRate > 0 && learningRate < 1) { return "fine-tuning learning rate must be in (0, 1)" }
        if !(layerDecay > 0 && layerDecay <= 1) { return "layer decay must be in (0, 1]" }
        if !(warmupEpochs >= 0 && warmupEpochs <= Double(epochs)) { return "the warm-up must not be longer than the fine-tuning" }
        if !(weightDecay >= 0 && weightDecay < 1) { return "weight decay must be in [0, 1)" }
        if !(labelSmoothing >= 0 && labelSmoothing < 1) { return "label smoothing must be in [0, 1)" }
        if !(clipNorm > 0) { return "the gradient clip norm must be positive" }
        if patience < 1 { return "patience must be at least 1" }
        return nil
    }
}

/// One epoch's figures.
public struct EpochRecord: Sendable, Codable, Equatable {
    public let epoch: Int
    public let trainLoss: Double
    public let trainAccuracy: Double
    public let validationLoss: Double
    public let validationAccuracy: Double
    public let learningRate: Double

    public init(
        epoch: Int, trainLoss: Double, trainAccuracy: Double, validationLoss: Double, validationAccuracy: Double,
        learningRate: Double
    ) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.validationLoss = validationLoss
        self.validationAccuracy = validationAccuracy
        self.learningRate = learningRate
    }
}
