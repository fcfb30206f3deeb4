public import FishImaging
import FishNeural
import Foundation

/// Computes backbone embeddings of images and their augmented views through the feature cache:
/// cached entries are read, the rest decoded, augmented and run through the backbone in
/// batches on all cores, then cached.
public struct FeatureExtractor: Sendable {
    /// How much work the cache saved.
    public struct Counters: Sendable, Codable, Equatable {
        public var cached = 0
        public var computed = 0

        public init(cached: Int = 0, computed: Int = 0) {
            self.cached = cached
            self.computed = computed
        }
    }

    public let backbone: LoadedModel
    public let preprocessing: Preprocessing
    public let cache: FeatureCache
    public let maxPixels: Int
    public let threads: Int
    public static let batchSize = 32

    public init(backbone: LoadedModel, preprocessing: Preprocessing, cache: FeatureCache, maxPixels: Int, threads: Int) {
        self.backbone = backbone
        self.preprocessing = preprocessing
        self.cache = cache
        self.maxPixels = maxPixels
        self.threads = threads
    }

    /// An extractor whose cache lives in `cacheDirectory`, keyed by the backbone's weights and the preprocessing.
    init(backbone: LoadedModel, preprocessing: Preprocessing, cacheDirectory: URL, maxPixels: Int, threads: Int) {
        self.init(
            backbone: backbone, preprocessing: preprocessing,
            cache: FeatureCache(
                directory: cacheDirectory, backboneSha256: backbone.metadata.weightsSha256,
                preprocessing: TrainingJob.describe(preprocessing), width: backbone.engine.embeddingWidth),
            maxPixels: maxPixels, threads: threads)
    }

    /// The augmentation of `view` (1, 2, ...) of an image: the same for the same image everywhere,
    /// so cached views stay valid across runs and seeds. View 0 is the image itself.
    public static func augmentation(image sha256: String, view: Int) -> Augmentation {
        var random = SeededRandom(UInt64(truncatingIfNeeded: sha256.hashValueStable), UInt64(view))
        return Augmentation(random: &random)
    }

    /// Features `[requests.count, width]` for the requests, in order.
    public func features(
        _ requests: [FeatureRequest], counters: inout Counters,
        progress: (Int, Int) -> Void = { _, _ in }, isCancelled: () -> Bool = { false }
    ) throws -> [Float] {
        let width = backbone.engine.embeddingWidth
        var output = [Float](repeating: 0, count: requests.count * width)
        var missing: [Int] = []
        for (index, request) in requests.enumerated() {
            if let cached = cache.features(image: request.sha256, view: request.view) {
                output.replaceSubrange((index * width)..<((index + 1) * width), with: cached)
                counters.cached += 1
            } else {
                missing.append(index)
            }
        }
        progress(requests.count - missing.count, requests.count)
        for start in stride(from: 0, to: missing.count, by: Self.batchSize) {
            if isCancelled() { throw ServiceError.cancelled }
            let batch = Array(missing[start..<min(start + Self.batchSize, missing.count)])
            let input = try ImageBatch.tensor(
                batch.map { requests[$0].path }, preprocessing: preprocessing, maxPixels: maxPixels,
                threads: threads
            ) { slot in
                let request = requests[batch[slot]]
                return request.view > 0 ? Self.augmentation(image: request.sha256, view: request.view) : nil
            }
            let embeddings = backbone.forward(input, count: batch.count).embeddings
            for (slot, index) in batch.enumerated() {
                let features = embeddings[(slot * width)..<((slot + 1) * width)]
                output.replaceSubrange((index * width)..<((index + 1) * width), with: features)
                cache.store(features, image: requests[index].sha256, view: requests[index].view)
                counters.computed += 1
            }
            progress(requests.count - missing.count + start + batch.count, requests.count)
        }
        return output
    }
}

/// One image view whose embedding is wanted: view 0 is the image itself, views 1... augmented.
public struct FeatureRequest: Sendable, Codable, Equatable {
    public let path: String
    public let sha256: String
    public let view: Int

    package init(path: String, sha256: String, view: Int) {
        (self.path, self.sha256, self.view) = (path, sha256, view)
    }
}

extension String {
    /// A hash of the string that is the same in every process (Swift's `hashValue` is seeded per run).
    var hashValueStable: UInt64 {
        utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }  // FNV-1a
    }
}
