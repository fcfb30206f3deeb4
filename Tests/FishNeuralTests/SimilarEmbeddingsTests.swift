import FishNeural
import Foundation
import Testing

/// Images are paired with their most similar image of the same class, above the threshold only.
@Suite struct SimilarEmbeddingsTests {
    @Test func nearestPairsStayWithinAClassAndAboveTheThreshold() {
        let dimension = 300
        func vector(_ seed: Int) -> [Float] {
            return (0..<dimension).map { Float(sin(Double($0 * (seed + 1)) * 0.37 + Double(seed))) }
        }
        let frame = vector(1)
        let nextFrame = zip(frame, vector(7)).map { $0 + 0.05 * $1 }  // the same fish, a little moved
        // Class 0: two frames of one track and an unrelated image; class 1: a copy of the first frame,
        // and 300 unrelated images (more than one block of the similarity matrix).
        var rows = [frame, nextFrame.map { $0 * 3 }, vector(2), frame]
        var labels = [0, 0, 0, 1]
        for seed in 10..<310 {
            rows.append(vector(seed))
            labels.append(1)
        }
        rows.append(nextFrame)
        labels.append(1)
        let pairs = SimilarEmbeddings.nearestPairs(
            embeddings: rows.flatMap { $0 }, dimension: dimension, labels: labels, threshold: 0.9)
        let found = Set(pairs.map { [$0.0, $0.1] })
        // Scale does not matter (cosine); the copy in class 1 pairs with its class-1 partner, never class 0.
        #expect(found == [[0, 1], [1, 0], [3, rows.count - 1], [rows.count - 1, 3]], "\(found)")
        #expect(
            SimilarEmbeddings.nearestPairs(embeddings: rows.flatMap { $0 }, dimension: dimension, labels: labels, threshold: 1.01)
                .isEmpty)
    }
}
