import FishImaging
import FishTestSupport
import Foundation
import Testing

@Suite struct PNGDecodingTests {
    let decoder = ImageDecoder()

    @Test(arguments: [false, true]) func rgb8IsExact(interlaced: Bool) throws {
        let pixels = TestImages.gradient(width: 37, height: 23)
        let png = try TestImages.png(pixels, width: 37, height: 23, colorType: .rgb, interlaced: interlaced)
        let image = try decoder.decode(png, name: "rgb.png")
        #expect(image.width == 37 && image.height == 23)
        #expect(image.pixels == pixels)
    }

    @Test func rgb16IsRoundedTo8Bits() throws {
        // 16-bit samples: v * 257 is exactly the 8-bit value v; 0xFF00 / 257 = 254.0 rounds to 254
        // (dropping the low byte would give 255).
        let samples16: [UInt16] = [0, 257 * 200, 0xFF00, 65535, 257, 0x7F7F]
        let bytes = samples16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        let image = try decoder.decode(
            try TestImages.png(bytes, width: 2, height: 1, colorType: .rgb, bitDepth: 16), name: "16.png")
        #expect(image.pixels == [0, 200, 254, 255, 1, 0x7F])
    }

    @Test(arguments: [1, 2, 4, 8]) func greyBitDepths(bitDepth: Int) throws {
        // One row of 8 pixels alternating black and white, packed at `bitDepth` bits per pixel.
        let maximum = (1 << bitDepth) - 1
        let values = (0..<8).map { $0 % 2 == 0 ? 0 : maximum }
        var packed: [UInt8] = []
        var accumulator = 0
        var bits = 0
        for value in values {
            accumulator = accumulator << bitDepth | value
            bits += bitDepth
            if bits == 8 {
                packed.append(UInt8(accumulator))
                accumulator = 0
                bits = 0
            }
        }
        let image = try decoder.decode(
            try TestImages.png(packed, width: 8, height: 1, colorType: .grey, bitDepth: bitDepth), name: "g.png")
        #expect(image.pixels == values.flatMap { $0 == 0 ? [0, 0, 0] : [255, 255, 255] as [UInt8] })
    }

    @Test func greyAlpha16() throws {
        // One opaque mid-grey pixel, 16-bit grey + alpha.
        let samples: [UInt8] = [0x80, 0x80, 0xFF, 0xFF]
        let image = try decoder.decode(
            try TestImages.png(samples, width: 1, height: 1, colorType: .greyAlpha, bitDepth: 16), name: "ga.png")
        #expect(image.pixels == [0x80, 0x80, 0x80])
    }

    @Test func paletteIsExpanded() throws {
        let palette: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255]
        let image = try decoder.decode(
            try TestImages.png([0, 1, 2, 1], width: 4, height: 1, colorType: .palette, palette: palette), name: "p.png")
        #expect(image.pixels == [255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 255, 0])
    }

    @Test func alphaIsCompositedOnWhite() throws {
        let rgba: [UInt8] = [0, 0, 0, 0, 255, 0, 0, 255, 0, 0, 0, 128]
        let image = try decoder.decode(try TestImages.png(rgba, width: 3, height: 1, colorType: .rgba), name: "a.png")
        #expect(image.pixels[0..<3] == [255, 255, 255])  // fully transparent: the background
        #expect(image.pixels[3..<6] == [255, 0, 0])  // opaque: unchanged
        #expect(image.pixels[6..<9] == [127, 127, 127])  // half-transparent black over white
    }
}
