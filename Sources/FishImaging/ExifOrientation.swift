public import Foundation

/// The EXIF orientation tag (1-8): how a stored JPEG must be turned to display upright.
public enum ExifOrientation: Int, Sendable, CaseIterable {
    case up = 1
    case mirrored, rotated180, flippedVertically, transposed, rotatedClockwise, transverse,
        rotatedCounterClockwise

    /// The orientation stored in a JPEG's EXIF (APP1) segment, or nil when there is none.
    public static func read(fromJPEG data: Data) -> ExifOrientation? {
        let bytes = [UInt8](data.prefix(256 * 1024))
        var offset = 2
        while offset + 4 <= bytes.count, bytes[offset] == 0xFF {
            let marker = bytes[offset + 1]
            if marker == 0xDA || marker == 0xD9 { return nil }  // start of scan / end of image
            let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            let segment = offset + 4
            let end = offset + 2 + length
            guard length >= 2, end <= bytes.count else { return nil }
            if marker == 0xE1, end - segment > 6, Array(bytes[segment..<segment + 6]) == Array("Exif\0\0".utf8) {
                return orientation(inTIFF: Array(bytes[(segment + 6)..<end]))
            }
            offset = end
        }
        return nil
    }

    /// Reads tag 0x0112 from IFD0 of a TIFF structure.
    private static func orientation(inTIFF tiff: [UInt8]) -> ExifOrientation? {
        guard tiff.count >= 8 else { return nil }
        let littleEndian: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): littleEndian = true
        case (0x4D, 0x4D): littleEndian = false
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= tiff.count else { return nil }
            let a = Int(tiff[at])
            let b = Int(tiff[at + 1])
            return littleEndian ? a | b << 8 : a << 8 | b
        }
        func u32(_ at: Int) -> Int? {
            guard let low = u16(littleEndian ? at : at + 2), let high = u16(littleEndian ? at + 2 : at) else { return nil }
            return high << 16 | low
        }
        guard let ifd = u32(4), let entries = u16(ifd) else { return nil }
        for index in 0..<entries {
            let entry = ifd + 2 + index * 12
            guard let tag = u16(entry) else { return nil }
            if tag == 0x0112, let value = u16(entry + 8) {
                return ExifOrientation(rawValue: value)
            }
        }
        return nil
    }

    /// `image` turned upright.
    public func apply(to image: RGBImage) -> RGBImage {
        if self == .up { return image }
        let (w, h) = (image.width, image.height)
        let swapsAxes = rawValue >= 5
        let outWidth = swapsAxes ? h : w
        let outHeight = swapsAxes ? w : h
        var pixels = [UInt8](repeating: 0, count: image.pixels.count)
        image.pixels.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { target in
                for y in 0..<outHeight {
                    for x in 0..<outWidth {
                        let (sx, sy) = sourcePoint(x: x, y: y, width: w, height: h)
                        let from = (sy * w + sx) * 3
                        let to = (y * outWidth + x) * 3
                        target[to] = source[from]
                        target[to + 1] = source[from + 1]
                        target[to + 2] = source[from + 2]
                    }
                }
            }
        }
        return RGBImage(width: outWidth, height: outHeight, pixels: pixels)
    }

    /// The stored pixel shown at upright position (x, y); width and height are the stored size.
    private func sourcePoint(x: Int, y: Int, width: Int, height: Int) -> (Int, Int) {
        switch self {
        case .up: return (x, y)
        case .mirrored: return (width - 1 - x, y)
        case .rotated180: return (width - 1 - x, height - 1 - y)
        case .flippedVertically: return (x, height - 1 - y)
        case .transposed: return (y, x)
        case .rotatedClockwise: return (y, height - 1 - x)
        case .transverse: return (width - 1 - y, height - 1 - x)
        case .rotatedCounterClockwise: return (width - 1 - y, x)
        }
    }
}
