import FishImaging
import FishRecords
import Testing

@Suite struct GeometryTests {
    /// A 3x2 image whose pixel at (x, y) has red = 10 * y + x.
    let image = RGBImage(width: 3, height: 2, pixels: (0..<6).flatMap { [UInt8(($0 / 3) * 10 + $0 % 3), 0, 0] })

    func reds(_ image: RGBImage) -> [[UInt8]] {
        (0..<image.height).map { y in (0..<image.width).map { x in image.pixel(x: x, y: y).0 } }
    }

    @Test func everyOrientation() {
        let expected: [ExifOrientation: [[UInt8]]] = [
            .up: [[0, 1, 2], [10, 11, 12]],
            .mirrored: [[2, 1, 0], [12, 11, 10]],
            .rotated180: [[12, 11, 10], [2, 1, 0]],
            .flippedVertically: [[10, 11, 12], [0, 1, 2]],
            .transposed: [[0, 10], [1, 11], [2, 12]],
            .rotatedClockwise: [[10, 0], [11, 1], [12, 2]],
            .transverse: [[12, 2], [11, 1], [10, 0]],
            .rotatedCounterClockwise: [[2, 12], [1, 11], [0, 10]],
        ]
        for orientation in ExifOrientation.allCases {
            #expect(reds(orientation.apply(to: image)) == expected[orientation], "orientation \(orientation.rawValue)")
        }
    }

    @Test func bilinearKeepsConstantImagesConstant() {
        let flat = RGBImage(width: 7, height: 5, pixels: [UInt8](repeating: 90, count: 105))
        #expect(flat.resized(width: 3, height: 11, method: .bilinear).pixels.allSatisfy { $0 == 90 })
    }

    @Test func bilinearUsesHalfPixelCentres() {
        // 2 -> 4 pixels: centres at -0.25, 0.25, 0.75, 1.25 of the source, clamped at the edges.
        let row = RGBImage(width: 2, height: 1, pixels: [0, 0, 0, 200, 200, 200])
        #expect(
            row.resized(width: 4, height: 1, method: .bilinear).pixels.enumerated().filter { $0.offset % 3 == 0 }.map(\.element)
                == [0, 50, 150, 200])
    }

    @Test func areaAveragesAChequerboard() {
        let board = RGBImage(
            width: 8, height: 8,
            pixels: (0..<64).flatMap { index -> [UInt8] in
                let value: UInt8 = (index % 8 + index / 8) % 2 == 0 ? 0 : 254
                return [value, value, value]
            })
        #expect(board.resized(width: 2, height: 2, method: .area).pixels.allSatisfy { $0 == 127 })
        #expect(board.resized(width: 2, height: 2, method: .auto).pixels.allSatisfy { $0 == 127 })
    }

    @Test func centreCropFollowsTheReference() {
        // 384x256 is the reference's resized size for a 600x400 photo: crop at left 80, top 16.
        var pixels: [UInt8] = []
        for y in 0..<256 {
            for x in 0..<384 { pixels += [UInt8(x % 256), UInt8(y), 0] }
        }
        let wide = RGBImage(width: 384, height: 256, pixels: pixels)
        let fitted = Preprocessing.efficientNetLite.fitted(wide)
        #expect(fitted.width == 224 && fitted.height == 224)
        #expect(fitted.pixel(x: 0, y: 0) == (80, 16, 0))
        let resized = Preprocessing.efficientNetLite.fitted(
            RGBImage(width: 600, height: 400, pixels: [UInt8](repeating: 9, count: 720_000)))
        #expect(resized.width == 224 && resized.pixels.allSatisfy { $0 == 9 })
    }

    @Test func letterboxKeepsTheWholeImageAndPadsWithTheMean() {
        // A 2:1 fish crop: scaled to 224x112, centred with 56 rows of mean colour above and below.
        let wide = RGBImage(width: 400, height: 200, pixels: [UInt8](repeating: 200, count: 400 * 200 * 3))
        var preprocessing = Preprocessing.efficientNetLite
        preprocessing.fit = .letterbox
        let fitted = preprocessing.fitted(wide)
        #expect(fitted.width == 224 && fitted.height == 224)
        #expect(fitted.pixel(x: 0, y: 0) == (127, 127, 127) && fitted.pixel(x: 223, y: 55) == (127, 127, 127))
        #expect(fitted.pixel(x: 0, y: 56) == (200, 200, 200) && fitted.pixel(x: 223, y: 167) == (200, 200, 200))
        #expect(fitted.pixel(x: 112, y: 168) == (127, 127, 127))
        // The padding normalises to zero; a tall image is padded left and right.
        var tensor = [Float](repeating: 1, count: 224 * 224 * 3)
        tensor.withUnsafeMutableBufferPointer { preprocessing.writeTensor(of: wide, into: $0) }
        #expect(tensor[0] == 0 && tensor[(56 * 224) * 3] == Float(200 - 127) / 128)
        let tall = preprocessing.fitted(RGBImage(width: 10, height: 300, pixels: [UInt8](repeating: 9, count: 9000)))
        #expect(tall.pixel(x: 0, y: 150) == (127, 127, 127) && tall.pixel(x: 112, y: 150) == (9, 9, 9))
    }

    @Test func normalisationIsLiteConvention() {
        let image = RGBImage(width: 224, height: 224, pixels: [UInt8](repeating: 255, count: 224 * 224 * 3))
        var tensor = [Float](repeating: 0, count: 224 * 224 * 3)
        tensor.withUnsafeMutableBufferPointer { Preprocessing.efficientNetLite.writeTensor(of: image, into: $0) }
        #expect(tensor.allSatisfy { $0 == 1 })
    }
}
