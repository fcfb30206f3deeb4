import FishImaging
import FishTestSupport
import Foundation
import Testing

@Suite struct JPEGDecodingTests {
    let decoder = ImageDecoder()

    /// Mean absolute difference per sample.
    func meanDifference(_ a: [UInt8], _ b: [UInt8]) -> Double {
        Double(zip(a, b).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }) / Double(a.count)
    }

    @Test func baselineRGB() throws {
        let pixels = TestImages.gradient(width: 64, height: 48)
        let image = try decoder.decode(try TestImages.jpeg(pixels, width: 64, height: 48), name: "baseline.jpg")
        #expect(image.width == 64 && image.height == 48)
        #expect(meanDifference(image.pixels, pixels) < 2)
    }

    @Test func progressiveMatchesBaseline() throws {
        let pixels = TestImages.gradient(width: 40, height: 30)
        let baseline = try decoder.decode(try TestImages.jpeg(pixels, width: 40, height: 30), name: "b.jpg")
        let progressive = try decoder.decode(try TestImages.jpeg(pixels, width: 40, height: 30, progressive: true), name: "p.jpg")
        #expect(progressive.width == 40 && progressive.height == 30)
        #expect(meanDifference(progressive.pixels, baseline.pixels) < 1)
        #expect(meanDifference(progressive.pixels, pixels) < 2)
    }

    @Test func greyscaleBecomesRGB() throws {
        let grey = (0..<(32 * 16)).map { UInt8($0 % 32 * 8) }
        let image = try decoder.decode(try TestImages.jpeg(grey, width: 32, height: 16, components: 1), name: "grey.jpg")
        #expect(image.width == 32 && image.height == 16)
        for index in stride(from: 0, to: image.pixels.count, by: 3) {
            #expect(image.pixels[index] == image.pixels[index + 1] && image.pixels[index] == image.pixels[index + 2])
        }
        let red = stride(from: 0, to: image.pixels.count, by: 3).map { image.pixels[$0] }
        #expect(meanDifference(red, grey) < 2)
    }

    /// libjpeg writes CMYK with an Adobe marker; like Photoshop's files, the values are inverted.
    @Test(arguments: [4, 5]) func cmykAndYCCK(components: Int) throws {
        // Left half red (C0 M100 Y100 K0), right half blue (C100 M100 Y0 K0), stored inverted (Adobe).
        var cmyk: [UInt8] = []
        for _ in 0..<16 {
            for x in 0..<32 { cmyk += x < 16 ? [255, 0, 0, 255] : [0, 0, 255, 255] }
        }
        let image = try decoder.decode(try TestImages.jpeg(cmyk, width: 32, height: 16, components: components), name: "cmyk.jpg")
        let (r, g, b) = image.pixel(x: 4, y: 8)
        #expect(r > 240 && g < 15 && b < 15, "left half should be red, got \(r),\(g),\(b)")
        let (r2, g2, b2) = image.pixel(x: 28, y: 8)
        #expect(r2 < 15 && g2 < 15 && b2 > 240, "right half should be blue, got \(r2),\(g2),\(b2)")
    }

    /// Inserts an EXIF APP1 segment holding `orientation` right after the JPEG's SOI marker.
    func withOrientation(_ jpeg: Data, _ orientation: UInt16, bigEndian: Bool) -> Data {
        func u16(_ value: UInt16) -> [UInt8] {
            bigEndian ? [UInt8(value >> 8), UInt8(value & 0xFF)] : [UInt8(value & 0xFF), UInt8(value >> 8)]
        }
        func u32(_ value: UInt32) -> [UInt8] {
            bigEndian
                ? [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
                : [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
        }
        var tiff: [UInt8] = bigEndian ? [0x4D, 0x4D] : [0x49, 0x49]
        tiff += u16(42) + u32(8) + u16(1)
        tiff += u16(0x0112) + u16(3) + u32(1) + u16(orientation) + [0, 0]
        tiff += u32(0)
        let payload = Array("Exif\0\0".utf8) + tiff
        let length = payload.count + 2
        let segment: [UInt8] = [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
        return Data(jpeg.prefix(2) + segment + jpeg.dropFirst(2))
    }

    @Test(arguments: [false, true]) func exifRotationIsApplied(bigEndian: Bool) throws {
        // Stored 32x16: left half red, right half blue. Orientation 6 turns it clockwise:
        // 16x32 with red on top.
        var pixels: [UInt8] = []
        for _ in 0..<16 { for x in 0..<32 { pixels += x < 16 ? [255, 0, 0] : [0, 0, 255] } }
        let jpeg = withOrientation(try TestImages.jpeg(pixels, width: 32, height: 16), 6, bigEndian: bigEndian)
        #expect(ExifOrientation.read(fromJPEG: jpeg) == .rotatedClockwise)
        let image = try decoder.decode(jpeg, name: "rotated.jpg")
        #expect(image.width == 16 && image.height == 32)
        #expect(image.pixel(x: 8, y: 4).0 > 200 && image.pixel(x: 8, y: 4).2 < 50)
        #expect(image.pixel(x: 8, y: 28).2 > 200 && image.pixel(x: 8, y: 28).0 < 50)
    }

    @Test func jpegWithoutExifHasNoOrientation() throws {
        let jpeg = try TestImages.jpeg(TestImages.gradient(width: 8, height: 8), width: 8, height: 8)
        #expect(ExifOrientation.read(fromJPEG: jpeg) == nil)
    }
}
