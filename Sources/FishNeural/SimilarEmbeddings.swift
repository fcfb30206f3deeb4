/// Pairs of images whose embeddings are nearly the same: frames of one video track, shots of one
/// fish. Each image is paired with its most similar image of the same label (cosine similarity),
/// when that similarity reaches the threshold; chained pairs make a group.
public enum SimilarEmbeddings {
    /// Rows of the similarity matrix computed at once, so memory stays `rowBlock x images`.
    static let rowBlock = 256

    /// For every image (row of `embeddings`, `dimension` floats each), its nearest neighbour of the
    /// same `labels` value as `(image, neighbour)`, where their cosine similarity is at least
    /// `threshold`.
    public static func nearestPairs(embeddings: [Float], dimension: Int, labels: [Int], threshold: Float) -> [(Int, Int)] {
        precondition(embeddings.count == labels.count * dimension, "one embedding per label")
        var pairs: [(Int, Int)] = []
        for label in Set(labels).sorted() {
            let members = labels.indices.filter { labels[$0] == label }
            guard members.count > 1 else { continue }
            let unit = normalised(members.flatMap { embeddings[($0 * dimension)..<(($0 + 1) * dimension)] }, dimension)
            for (row, column) in nearest(unit, count: members.count, dimension: dimension, threshold: threshold) {
                pairs.append((members[row], members[column]))
            }
        }
        return pairs
    }

    /// Rows scaled to unit length (a zero row stays zero).
    private static func normalised(_ rows: [Float], _ dimension: Int) -> [Float] {
        var rows = rows
        for start in stride(from: 0, to: rows.count, by: dimension) {
            var norm: Float = 0
            for index in start..<(start + dimension) { norm += rows[index] * rows[index] }
            let scale = norm > 0 ? 1 / norm.squareRoot() : 0
            for index in start..<(start + dimension) { rows[index] *= scale }
        }
        return rows
    }

    /// Each row's most similar other row, where the similarity reaches `threshold`.
    private static func nearest(_ unit: [Float], count: Int, dimension: Int, threshold: Float) -> [(Int, Int)] {
        var pairs: [(Int, Int)] = []
        var similarities = [Float](repeating: 0, count: min(rowBlock, count) * count)
        unit.withUnsafeBufferPointer { rows in
            guard let base = rows.baseAddress else { return }
            for start in stride(from: 0, to: count, by: rowBlock) {
                let block = min(rowBlock, count - start)
                similarities.withUnsafeMutableBufferPointer { target in
                    guard let output = target.baseAddress else { return }
                    Gemm.multiply(
                        base + start * dimension, base, transposeB: true, into: output, m: block, n: count, k: dimension)
                }
                for offset in 0..<block {
                    let row = start + offset
                    var best = -Float.infinity
                    var bestColumn = -1
                    for column in 0..<count where column != row && similarities[offset * count + column] > best {
                        best = similarities[offset * count + column]
                        bestColumn = column
                    }
                    if bestColumn >= 0 && best >= threshold { pairs.append((row, bestColumn)) }
                }
            }
        }
        return pairs
    }
}
