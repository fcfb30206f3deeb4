import FishImaging
import FishTestSupport
import Foundation
import Testing

/// Near-duplicate detection and training-time augmentation.
@Suite struct PerceptualHashTests {
    func picture(_ seed: UInt64, width: Int = 120, height: Int = 90) -> RGBImage {
        RGBImage(width: width, height: height, pixels: TestImages.blobs(width: width, height: height, seed: seed))
    }

    @Test func flipsAndQuarterTurnsAreNearDuplicates() {
        let original = picture(1)
        let hash = PerceptualHash(of: original)
        for orientation in ExifOrientation.allCases {
            let turned = PerceptualHash(of: orientation.apply(to: original))
            #expect(hash.distance(to: turned) <= 4, "\(orientation)")
            #expect(turned.distance(to: hash) <= 4, "\(orientation), the other way round")
        }
    }

    @Test func recompressedAndResizedCopiesAreNearDuplicates() throws {
        let original = picture(2, width: 200, height: 160)
        let jpeg = try TestImages.jpeg(original.pixels, width: original.width, height: original.height, quality: 60)
        let recompressed = try ImageDecoder().decode(jpeg, name: "copy.jpg")
        let smaller = original.resized(width: 100, height: 80, method: .area)
        let hash = PerceptualHash(of: original)
        #expect(hash.distance(to: PerceptualHash(of: recompressed)) <= 12)
        #expect(hash.distance(to: PerceptualHash(of: smaller)) <= 12)
    }

    @Test func differentPicturesAreFarApart() {
        let hashes = (10..<20).map { PerceptualHash(of: picture($0)) }
        for a in hashes.indices {
            for b in hashes.indices where a < b {
                #expect(hashes[a].distance(to: hashes[b]) > 48, "pictures \(a) and \(b)")
            }
        }
    }

    @Test func augmentationIsReproducibleAndStaysInBounds() {
        let image = picture(3, width: 100, height: 50)
        var sizes: Set<Int> = []
        var flips = 0
        for seed in 0..<40 {
            var first = SystemRandomNumberGenerator.seeded(seed)
            var second = SystemRandomNumberGenerator.seeded(seed)
            let augmentation = Augmentation(random: &first)
            #expect(augmentation == Augmentation(random: &second))
            let view = augmentation.apply(to: image)
            #expect((80...100).contains(view.width) && (40...50).contains(view.height))
            #expect(view.pixels.count == view.width * view.height * 3)
            sizes.insert(view.width)
            flips += augmentation.flip ? 1 : 0
        }
        #expect(sizes.count > 5 && (5...35).contains(flips))
    }

    @Test func flipOnlyViewMirrorsThePixels() {
        let image = picture(4, width: 31, height: 7)
        var random = SystemRandomNumberGenerator.seeded(0)
        let drawn = Augmentation(random: &random)
        let mirror = Augmentation(cropScale: 1, cropX: 0, cropY: 0, flip: true, brightness: 0, contrast: 0, saturation: 0)
        #expect(drawn != mirror)
        let view = mirror.apply(to: image)
        for y in 0..<7 {
            for x in 0..<31 {
                #expect(view.pixel(x: x, y: y) == image.pixel(x: 30 - x, y: y))
            }
        }
    }
}

extension SystemRandomNumberGenerator {
    /// A reproducible generator for tests (xorshift), seeded per case.
    static func seeded(_ seed: Int) -> XorShift { XorShift(state: UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 | 1) }
}

struct XorShift: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}
