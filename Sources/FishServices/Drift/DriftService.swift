import Foundation

/// Drift checks of image folders against a version's training data (`fishops drift`).
public struct DriftService: Sendable {
    /// One check of a folder: the version it was made against, and what it found.
    public struct Report: Codable, Sendable {
        public var model: ClassificationService.ModelReference
        public var check: DriftCheck
        /// Files that could not be classified (and so are not in the check).
        public var failed: Int
        /// Class names in the reference's order, with their share on the test split and among these images.
        public var classMix: [ClassMix]
    }

    public struct ClassMix: Codable, Sendable, Equatable {
        public var label: String
        public var testShare: Double
        public var share: Double
    }

    private let context: ServiceContext

    public init(context: ServiceContext) {
        self.context = context
    }

    /// The reference of `model`'s package, or an error saying why there is none.
    public static func reference(of model: LoadedModel) throws(ServiceError) -> DriftReference {
        guard let reference = try DriftReference.load(packageDirectory: model.packageDirectory) else {
            throw .invalidArgument(
                "\(model.name) v\(model.version) has no drift reference: only versions trained by this FishOps (head-only) carry one; train one with `fishops train`"
            )
        }
        return reference
    }

    /// Classifies the images under `paths` with `name` (at `version`, else as `classify` picks it)
    /// and compares them with its training data.
    public func check(model name: String?, version: Int?, paths: [String]) throws -> Report {
        let classification = ClassificationService(context: context)
        let model = try classification.loadModel(name: name, version: version)
        let reference = try Self.reference(of: model)
        let (files, unusable) = classification.collectFiles(paths)
        if let first = unusable.first { throw ServiceError.invalidArgument(first.message) }
        var projections: [[Double]] = []
        var tops: [Int] = []
        var confidences: [Double] = []
        var failed = 0
        classification.classify(files: files, model: model, top: 1, embeddings: true) { result in
            guard case let .success(predictions) = result.outcome, let top = predictions.first, let embedding = result.embedding,
                embedding.count == reference.dimension
            else {
                failed += 1
                return
            }
            projections.append(reference.project(embedding[...]))
            tops.append(top.index)
            confidences.append(top.probability)
        }
        let check = DriftCheck.run(reference, projections: projections, topClasses: tops, confidences: confidences)
        var counts = [Double](repeating: 0, count: reference.classNames.count)
        for top in tops where counts.indices.contains(top) { counts[top] += 1 }
        let mix = reference.classNames.indices.map { index in
            ClassMix(
                label: reference.classNames[index], testShare: reference.classShares[index],
                share: counts[index] / Double(max(tops.count, 1)))
        }
        return Report(model: model.reference, check: check, failed: failed, classMix: mix)
    }
}
