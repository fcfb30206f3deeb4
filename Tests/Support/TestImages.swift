import CJPEG
import CPNG
public import Foundation

/// Encodes test images with libjpeg and libpng, the libraries FishOps decodes with.
public enum TestImages {
    public enum Failure: Error { case encode(String) }

    /// A JPEG of `pixels` (`components` bytes per pixel: 1 grey, 3 RGB, 4 CMYK, 5 CMYK stored as YCCK).
    public static func jpeg(
        _ pixels: [UInt8], width: Int, height: Int, components: Int = 3,
        quality: Int = 95, progressive: Bool = false
    ) throws -> Data {
        var output: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = fish_jpeg_encode(
            pixels, Int32(width), Int32(height), Int32(components), Int32(quality),
            progressive ? 1 : 0, &output, &size, &message, message.count)
        guard status == 0, let output else { throw Failure.encode(text(message)) }
        defer { fish_jpeg_free(output) }
        return Data(bytes: output, count: size)
    }

    /// PNG colour types.
    public enum ColorType: Int32 {
        case grey = 0
        case rgb = 2
        case palette = 3
        case greyAlpha = 4
        case rgba = 6
    }

    /// A PNG of raw `samples` as PNG stores them (big-endian 16-bit samples, palette indices).
    public static func png(
        _ samples: [UInt8], width: Int, height: Int, colorType: ColorType, bitDepth: Int = 8,
        interlaced: Bool = false, palette: [UInt8] = []
    ) throws -> Data {
        var output: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = fish_png_encode(
            samples, Int32(width), Int32(height), colorType.rawValue, Int32(bitDepth),
            interlaced ? 1 : 0, palette, Int32(palette.count / 3), &output, &size,
            &message, message.count)
        guard status == 0, let output else { throw Failure.encode(text(message)) }
        defer { fish_png_free(output) }
        return Data(bytes: output, count: size)
    }

    /// The text of a NUL-terminated C message buffer.
    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A smooth RGB gradient (compresses well, so JPEG stays close to it).
    public static func gradient(width: Int, height: Int) -> [UInt8] {
        var pixels: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                pixels += [UInt8(x * 255 / max(width - 1, 1)), UInt8(y * 255 / max(height - 1, 1)), 128]
            }
        }
        return pixels
    }

    /// RGB pixels of a few soft coloured blobs placed by `seed`: a picture with structure, so
    /// different seeds give perceptually different images.
    public static func blobs(width: Int, height: Int, seed: UInt64) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
        func next() -> Double {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Double(state % 10_000) / 10_000
        }
        let blobs = (0..<6).map { _ in
            (
                x: next() * Double(width), y: next() * Double(height),
                radius: (0.1 + next() * 0.3) * Double(width), colour: [next(), next(), next()]
            )
        }
        var pixels: [UInt8] = []
        pixels.reserveCapacity(width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                var colour = [40.0, 40.0, 40.0]
                for blob in blobs {
                    let distance = ((Double(x) - blob.x) * (Double(x) - blob.x) + (Double(y) - blob.y) * (Double(y) - blob.y))
                        .squareRoot()
                    let weight = max(0, 1 - distance / blob.radius)
                    for channel in 0..<3 { colour[channel] += 200 * weight * blob.colour[channel] }
                }
                pixels += colour.map { UInt8(min($0, 255)) }
            }
        }
        return pixels
    }

    /// The CRC-32 of PNG chunks (ISO 3309), for patching headers in tests.
    public static func crc32(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
