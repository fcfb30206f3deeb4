import Foundation

/// A 64-bit DCT perceptual hash (pHash): the image shrunk to 32x32 grey, its 8x8 lowest
/// frequencies compared with their median. Similar pictures have hashes a few bits apart.
public struct PerceptualHash: Sendable, Hashable, Codable {
    /// The hash of the image as it is, then of its 7 other flips and quarter turns.
    public let variants: [UInt64]

    public static let side = 32

    public init(of image: RGBImage) {
        let grey = Self.greyThumbnail(image)
        var variants: [UInt64] = []
        for transform in 0..<8 {
            variants.append(Self.hash(Self.transformed(grey, transform)))
        }
        self.variants = variants
    }

    /// The smallest Hamming distance between this image and `other` flipped or turned in any way.
    public func distance(to other: PerceptualHash) -> Int {
        other.variants.reduce(64) { min($0, (variants[0] ^ $1).nonzeroBitCount) }
    }

    private static func greyThumbnail(_ image: RGBImage) -> [Double] {
        let small = image.resized(width: side, height: side, method: .area)
        return (0..<(side * side)).map { index in
            let r = Double(small.pixels[index * 3]), g = Double(small.pixels[index * 3 + 1]), b = Double(small.pixels[index * 3 + 2])
            return 0.299 * r + 0.587 * g + 0.114 * b
        }
    }

    /// One of the 8 symmetries of the square: bit 0 flips horizontally, bit 1 vertically, bit 2 transposes.
    private static func transformed(_ grey: [Double], _ transform: Int) -> [Double] {
        var output = [Double](repeating: 0, count: side * side)
        for y in 0..<side {
            for x in 0..<side {
                var (sx, sy) = transform & 4 != 0 ? (y, x) : (x, y)
                if transform & 1 != 0 { sx = side - 1 - sx }
                if transform & 2 != 0 { sy = side - 1 - sy }
                output[y * side + x] = grey[sy * side + sx]
            }
        }
        return output
    }

    private static let cosines: [Double] = (0..<8).flatMap { u in
        (0..<side).map { x in cos(Double.pi * Double(u) * (2 * Double(x) + 1) / Double(2 * side)) }
    }

    private static func hash(_ grey: [Double]) -> UInt64 {
        // Separable DCT-II, keeping the 8x8 lowest frequencies.
        var rows = [Double](repeating: 0, count: side * 8)
        for y in 0..<side {
            for u in 0..<8 {
                var sum = 0.0
                for x in 0..<side { sum += grey[y * side + x] * cosines[u * side + x] }
                rows[y * 8 + u] = sum
            }
        }
        var coefficients = [Double](repeating: 0, count: 64)
        for v in 0..<8 {
            for u in 0..<8 {
                var sum = 0.0
                for y in 0..<side { sum += rows[y * 8 + u] * cosines[v * side + y] }
                coefficients[v * 8 + u] = sum
            }
        }
        let median = coefficients.dropFirst().sorted()[31]  // the DC term only says how bright
        var bits: UInt64 = 0
        for (index, value) in coefficients.enumerated() where value > median { bits |= 1 << UInt64(index) }
        return bits
    }
}
