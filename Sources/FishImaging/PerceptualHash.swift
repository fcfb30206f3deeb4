import Foundation

/// A 256-bit DCT perceptual hash (pHash): the image shrunk to 32x32 grey, its 16x16 lowest
/// frequencies compared with their median. Similar pictures have hashes a few bits apart;
/// unrelated ones about half the bits (128) apart.
public struct PerceptualHash: Sendable {
    /// The hash of the image as it is, then of its 7 other flips and quarter turns.
    public let variants: [Bits]

    /// 256 bits.
    public struct Bits: Sendable {
        public var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

        /// The number of differing bits.
        public func distance(to other: Bits) -> Int {
            (words.0 ^ other.words.0).nonzeroBitCount + (words.1 ^ other.words.1).nonzeroBitCount
                + (words.2 ^ other.words.2).nonzeroBitCount + (words.3 ^ other.words.3).nonzeroBitCount
        }

        mutating func set(_ bit: Int) {
            let mask = UInt64(1) << UInt64(bit % 64)
            switch bit / 64 {
            case 0: words.0 |= mask
            case 1: words.1 |= mask
            case 2: words.2 |= mask
            default: words.3 |= mask
            }
        }
    }

    public static let side = 32
    /// Frequencies kept per axis.
    static let frequencies = 16
    /// Bits in a hash.
    public static let bitCount = 256

    public init(of image: RGBImage) {
        let grey = Self.greyThumbnail(image)
        var variants: [Bits] = []
        for transform in 0..<8 {
            variants.append(Self.hash(Self.transformed(grey, transform)))
        }
        self.variants = variants
    }

    /// The smallest Hamming distance between this image and `other` flipped or turned in any way.
    public func distance(to other: PerceptualHash) -> Int {
        other.variants.reduce(Self.bitCount) { min($0, variants[0].distance(to: $1)) }
    }

    private static func greyThumbnail(_ image: RGBImage) -> [Double] {
        let small = image.resized(width: side, height: side, method: .area)
        return (0..<(side * side)).map { index in
            let r = Double(small.pixels[index * 3])
            let g = Double(small.pixels[index * 3 + 1])
            let b = Double(small.pixels[index * 3 + 2])
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

    private static let cosines: [Double] = (0..<frequencies).flatMap { u in
        (0..<side).map { x in cos(Double.pi * Double(u) * (2 * Double(x) + 1) / Double(2 * side)) }
    }

    /// The lowest `frequencies` DCT-II terms of `lines` lines of `side` values: value `i` of line `a`
    /// is `input[a * lineStride + i * valueStride]`, its term `f` goes to `output[a * lineStep + f * termStep]`.
    private static func lowTerms(
        _ input: [Double], lines: Int, lineStride: Int, valueStride: Int, lineStep: Int,
        termStep: Int
    ) -> [Double] {
        var output = [Double](repeating: 0, count: lines * frequencies)
        for line in 0..<lines {
            for term in 0..<frequencies {
                var sum = 0.0
                for i in 0..<side { sum += input[line * lineStride + i * valueStride] * cosines[term * side + i] }
                output[line * lineStep + term * termStep] = sum
            }
        }
        return output
    }

    private static func hash(_ grey: [Double]) -> Bits {
        // Separable DCT-II, keeping the lowest frequencies: along each row, then down each column
        // of the rows' terms (coefficient `v * k + u`: vertical frequency v, horizontal u).
        let k = frequencies
        let rows = lowTerms(grey, lines: side, lineStride: side, valueStride: 1, lineStep: k, termStep: 1)
        let coefficients = lowTerms(rows, lines: k, lineStride: 1, valueStride: k, lineStep: 1, termStep: k)
        let median = coefficients.dropFirst().sorted()[k * k / 2 - 1]  // the DC term only says how bright
        var bits = Bits()
        for (index, value) in coefficients.enumerated() where value > median { bits.set(index) }
        return bits
    }
}
