import FishImaging
import FishNeural
import Foundation

/// Image files decoded, optionally augmented, and preprocessed into one NHWC input tensor, in
/// parallel.
enum ImageBatch {
    /// `paths.count * size * size * 3` floats; `augmentation(i)` is the view of image `i` (nil: as is).
    static func tensor(
        _ paths: [String], preprocessing: Preprocessing, maxPixels: Int, threads: Int,
        augmentation: (Int) -> Augmentation? = { _ in nil }
    ) throws -> [Float] {
        let floatsPerImage = preprocessing.inputSize * preprocessing.inputSize * 3
        let decoder = ImageDecoder(maxPixels: maxPixels)
        var input = [Float](repeating: 0, count: paths.count * floatsPerImage)
        var failures = [String?](repeating: nil, count: paths.count)
        input.withUnsafeMutableBufferPointer { tensor in
            failures.withUnsafeMutableBufferPointer { failed in
                Parallel.forEach(paths.count, threads: threads) { slot in
                    do {
                        var image = try decoder.decodeFile(atPath: paths[slot])
                        if let view = augmentation(slot) { image = view.apply(to: image) }
                        preprocessing.writeTensor(
                            of: image,
                            into: UnsafeMutableBufferPointer(
                                rebasing: tensor[(slot * floatsPerImage)..<((slot + 1) * floatsPerImage)]))
                    } catch {
                        failed[slot] = "\(error)"
                    }
                }
            }
        }
        if let failure = failures.compactMap({ $0 }).first {
            throw ServiceError.failed("\(failure) (the file changed since the dataset check; run training again)")
        }
        return input
    }
}
