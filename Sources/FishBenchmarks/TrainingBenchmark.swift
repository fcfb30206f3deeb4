import FishNeural
public import FishServices
import Foundation

/// Measures the training pipeline in a scratch home (the base model copied in, an empty feature
/// cache): one cold run that computes every feature, one warm run that reads them all from the
/// cache, and a projection of the cold run's time to a larger data set.
public struct TrainingBenchmark: Sendable {
    public struct Report: Sendable, Codable {
        public let data: String
        public let images: Int
        public let coldSeconds: Double
        public let warmSeconds: Double
        /// Seconds per stage of the cold run.
        public let stages: [String: Double]
        public let featureImagesPerSecond: Double
        public let testAccuracy: Double
        public let testMacroF1: Double
        public let projectedImages: Int
        /// Cold-run time scaled to `projectedImages`: scan and features per image, the rest as measured.
        public let projectedSeconds: Double
    }

    private let context: ServiceContext

    public init(context: ServiceContext) {
        self.context = context
    }

    public func run(data: String, spec base: TrainingSpec? = nil, projectTo projectedImages: Int = 9_000) throws -> Report {
        let scratch = try ScratchHome(copying: context)
        let scratchContext = scratch.context
        var spec = base ?? TrainingSpec(data: data)
        spec.data = data
        let service = TrainingService(context: scratchContext)
        let cold = try service.train(spec)
        let warm = try service.train(spec)
        withExtendedLifetime(scratch) {}
        let images = cold.check.usableImages + cold.check.unreadable.count
        let perImage = ((cold.seconds["scan"] ?? 0) + (cold.seconds["features"] ?? 0)) / Double(max(images, 1))
        let fixed = (cold.seconds["total"] ?? 0) - (cold.seconds["scan"] ?? 0) - (cold.seconds["features"] ?? 0)
        return Report(
            data: data, images: images, coldSeconds: cold.seconds["total"] ?? 0, warmSeconds: warm.seconds["total"] ?? 0,
            stages: cold.seconds, featureImagesPerSecond: cold.metrics["feature_images_per_second"] ?? 0,
            testAccuracy: cold.evaluation.accuracy, testMacroF1: cold.evaluation.macroF1,
            projectedImages: projectedImages, projectedSeconds: perImage * Double(projectedImages) + fixed)
    }
}
