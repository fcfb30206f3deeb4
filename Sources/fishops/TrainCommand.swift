import ArgumentParser
import FishServices
import Foundation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a fish classifier on an image folder and register it as a new version (alias staging).",
        discussion: "Ctrl-C cancels cleanly: the run is marked KILLED and cached features are kept. See docs/training.md.")

    @Option(help: "Image folder: <class>/<image> files, or the base of the manifest's relative paths.")
    var data: String

    @Option(help: "CSV manifest with path,label[,group] lines (default: the folder layout).")
    var manifest: String?

    @Option(
        help: ArgumentHelp(
            "Group images by an id in their file names (the first capture group), so frames of one track stay on one side of the split.",
            valueName: "regex"))
    var groupBy: String?

    @Option(
        help: ArgumentHelp(
            "Also group each image with its most similar image of its class when their embeddings' cosine similarity reaches this (0.5-1).",
            valueName: "cosine"))
    var groupSimilar: Double?

    @Option(help: "Experiment the run is recorded in.")
    var experiment = "fish-training"

    @Option(help: "Registered model the new version belongs to.")
    var model = "fish-classifier"

    @Option(
        help: ArgumentHelp(
            "Start from a preset: fast (Lite0, head only: the defaults) or accurate (Lite2 with its last 4 blocks fine-tuned; make weights-lite2). Options given beside it win.",
            valueName: "name"))
    var preset: String?

    @Option(
        help: ArgumentHelp(
            "Registered backbone to train on: imagenet-lite0 (default), or imagenet-lite1/imagenet-lite2 after make weights-lite1/weights-lite2.",
            valueName: "model"))
    var backbone: String?

    @Option(help: "Seed of the split, augmentation choices and training.")
    var seed: UInt64 = 0

    @Option(help: "Head-training trials; more than 1 searches the hyperparameters.")
    var trials = 1

    @Option(help: "Search method for trials: random or grid.")
    var search = "random"

    @Option(help: "Learning rate (AdamW).")
    var learningRate = 1e-3

    @Option(help: "Decoupled weight decay.")
    var weightDecay = 1e-4

    @Option(help: "Label smoothing, 0 to <1.")
    var labelSmoothing = 0.1

    @Option(help: "Hidden layer width (0: a linear softmax head).")
    var hidden = 0

    @Option(help: "Most epochs per trial.")
    var epochs = 60

    @Option(help: "Epochs without a better validation loss before stopping.")
    var patience = 8

    @Option(help: "Mini-batch size.")
    var batchSize = 64

    @Flag(help: "Weigh every image equally instead of every class.")
    var noClassBalance = false

    @Option(help: "Augmented views per training image (flip, crop, colour jitter), cached like the originals.")
    var augment = 0

    @Option(
        help:
            "Fit to the backbone's square input: center-crop (default; resize the shorter side to 32 more, crop), squash, or letterbox (aspect kept, padded with the mean colour)."
    )
    var fit: String?

    @Option(help: "Share of each class held out for validation.")
    var validationFraction = 0.15

    @Option(help: "Share of each class held out for the test.")
    var testFraction = 0.15

    @Option(
        help: "Perceptual-hash bits (of 256) within which images count as near duplicates (flips and quarter turns included).")
    var nearDuplicateDistance = 24

    @Option(help: "Compute threads (default: all cores, or $FISHOPS_THREADS).")
    var threads: Int?

    @Option(help: "Where worker tasks run: local (worker processes on this machine) or slurm (array jobs; see docs/cluster.md).")
    var backend = "local"

    @Option(help: "Local worker processes (default: one per core).")
    var workers: Int?

    @Option(help: "Image views per feature-extraction task.")
    var shardSize = 128

    @Option(help: "Attempts per task before the run fails (a killed or failed task is retried).")
    var maxAttempts = 3

    @Option(
        name: .customLong("sbatch-option"),
        help: "An extra sbatch option for --backend slurm (repeatable), e.g. --sbatch-option=--partition=cpu.")
    var sbatchOptions: [String] = []

    @Option(help: "CPUs per Slurm task; each worker uses that many threads.")
    var slurmCpusPerTask = 1

    @Option(
        help: "Seconds a local worker may stay silent (workers report every second) before it is killed and its task retried.")
    var heartbeatTimeout = 60.0

    @Flag(help: "Move production to the new version when the promotion gate passes.")
    var promoteIfBetter = false

    @Flag(help: "After the head-only trials, fine-tune the backbone's last blocks with the head (docs/training.md).")
    var finetune = false

    @Option(
        help:
            "With --finetune: the first trainable block, 0 (everything) to the backbone's block count (16 for Lite0, 21 for Lite1/2: only the head convolution); default 12, or the preset's."
    )
    var unfreezeFrom: Int?

    @Option(help: "With --finetune: most fine-tuning epochs (early stopping on validation loss).")
    var finetuneEpochs = 6

    @Option(help: "With --finetune: peak learning rate of the classifier and head; earlier blocks get less (--layer-decay).")
    var finetuneLearningRate = 1e-3

    @Option(help: "With --finetune: learning-rate factor per block below the head.")
    var layerDecay = 0.8

    @Option(help: "With --finetune: mini-batch size.")
    var finetuneBatchSize = 32

    @Flag(help: "Print one JSON object with the run, model version and metrics at the end.")
    var json = false

    func spec() throws -> TrainingSpec {
        guard let searchMethod = TrainingSpec.Search(rawValue: search) else {
            throw ValidationError("--search must be random or grid")
        }
        var spec = TrainingSpec(data: data)
        if let preset {
            guard let named = TrainingPreset(rawValue: preset) else {
                throw ValidationError("--preset must be fast or accurate")
            }
            named.apply(to: &spec)
        }
        if let fit {
            guard let fitMode = ImageFit(rawValue: fit) else {
                throw ValidationError("--fit must be center-crop, squash or letterbox")
            }
            spec.fit = fitMode
        }
        if let backbone { spec.backbone = backbone }
        spec.manifest = manifest
        spec.groupBy = groupBy
        spec.groupSimilar = groupSimilar
        spec.experiment = experiment
        spec.model = model
        spec.seed = seed
        spec.trials = trials
        spec.search = searchMethod
        spec.hyperparameters = HeadHyperparameters(
            learningRate: learningRate, weightDecay: weightDecay, labelSmoothing: labelSmoothing, hidden: hidden,
            epochs: epochs, batchSize: batchSize, patience: patience, classBalanced: !noClassBalance)
        spec.augmentedViews = augment
        spec.validationFraction = validationFraction
        spec.testFraction = testFraction
        spec.nearDuplicateDistance = nearDuplicateDistance
        guard let backendKind = ClusterOptions.Backend(rawValue: backend) else {
            throw ValidationError("--backend must be local or slurm")
        }
        spec.cluster.backend = backendKind
        spec.cluster.workers = workers
        spec.cluster.shardSize = shardSize
        spec.cluster.maxAttempts = maxAttempts
        spec.cluster.sbatchOptions = sbatchOptions
        spec.cluster.slurmCPUsPerTask = slurmCpusPerTask
        spec.cluster.heartbeatTimeout = heartbeatTimeout
        spec.promoteIfBetter = promoteIfBetter
        if finetune || spec.finetune != nil {
            var settings = spec.finetune ?? FineTuneSettings()
            if let unfreezeFrom { settings.unfreezeFrom = unfreezeFrom }
            settings.epochs = finetuneEpochs
            settings.learningRate = finetuneLearningRate
            settings.layerDecay = layerDecay
            settings.batchSize = finetuneBatchSize
            spec.finetune = settings
        }
        if let problem = spec.problem { throw ValidationError(problem) }
        return spec
    }

    func validate() throws {
        _ = try spec()
    }

    func run() throws {
        let spec = try spec()
        let service = TrainingService(context: try makeContext(threads: threads))
        try runTraining(json: json) { cancellation, events in
            try service.train(spec, cancellation: cancellation, events: events)
        }
    }
}

/// Runs a training pipeline with progress on stderr, Ctrl-C as clean cancellation, and the report
/// (text or one JSON line) on stdout.
func runTraining(json: Bool, _ body: (CancellationFlag, @escaping @Sendable (TrainingEvent) -> Void) throws -> TrainingReport)
    throws
{
    let cancellation = CancellationFlag()
    signal(SIGINT, SIG_IGN)
    let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    interrupt.setEventHandler { cancellation.cancel() }
    interrupt.resume()
    let printer = TrainingProgressPrinter(terminal: isatty(STDERR_FILENO) == 1, quiet: json)
    let report = try reporting { try body(cancellation, printer.handle) }
    printer.finish()
    if json {
        print(jsonLine(report, snakeCase: true))
    } else {
        print(TrainingReportText(report: report).text)
    }
}
