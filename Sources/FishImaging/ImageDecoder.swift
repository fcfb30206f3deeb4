import CJPEG
import CPNG
import Foundation

/// Decodes JPEG and PNG files into `RGBImage`s with libjpeg and libpng.
public struct ImageDecoder: Sendable {
    /// The default pixel limit: 50 megapixels.
    public static let defaultMaxPixels = 50_000_000

    /// Images with more pixels than this are refused before their pixels are allocated.
    public var maxPixels: Int

    public init(maxPixels: Int = ImageDecoder.defaultMaxPixels) {
        self.maxPixels = maxPixels
    }

    /// Reads and decodes the file at `path`.
    public func decodeFile(atPath path: String) throws(ImagingError) -> RGBImage {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw .unreadable(file: path, reason: Self.reason(for: error))
        }
        return try decode(data, name: path)
    }

    /// Decodes an encoded image held in memory; `name` labels errors.
    public func decode(_ data: Data, name: String) throws(ImagingError) -> RGBImage {
        guard !data.isEmpty else { throw .empty(file: name) }
        guard let format = ImageFormat.sniff(data) else {
            throw .unsupportedFormat(file: name, detail: ImageFormat.describeUnknown(Array(data.prefix(8))))
        }
        let image = try decodePixels(data, format: format, name: name)
        if format == .jpeg, let orientation = ExifOrientation.read(fromJPEG: data) {
            return orientation.apply(to: image)
        }
        return image
    }

    private func decodePixels(_ data: Data, format: ImageFormat, name: String) throws(ImagingError) -> RGBImage {
        var message = [CChar](repeating: 0, count: 256)
        var width: Int32 = 0
        var height: Int32 = 0
        var output: UnsafeMutablePointer<UInt8>?
        let limit = UInt64(max(maxPixels, 0))
        let status: Int32 = data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self).baseAddress
            switch format {
            case .jpeg:
                return fish_jpeg_decode(bytes, raw.count, limit, &output, &width, &height, &message, message.count)
            case .png:
                return fish_png_decode(bytes, raw.count, limit, &output, &width, &height, &message, message.count)
            }
        }
        let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard status == 0, let output else {
            if status == 2 { throw .tooLarge(file: name, detail: reason) }
            throw .corrupt(file: name, format: format.rawValue, reason: reason)
        }
        let count = Int(width) * Int(height)
        switch format {
        case .jpeg:
            defer { fish_jpeg_free(output) }
            return RGBImage(width: Int(width), height: Int(height),
                            pixels: Array(UnsafeBufferPointer(start: output, count: count * 3)))
        case .png:
            defer { fish_png_free(output) }
            return RGBImage(width: Int(width), height: Int(height),
                            pixels: Self.compositeOnWhite(UnsafeBufferPointer(start: output, count: count * 4)))
        }
    }

    /// Flattens RGBA onto a white background, as a viewer shows a transparent image.
    static func compositeOnWhite(_ rgba: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        let pixelCount = rgba.count / 4
        return [UInt8](unsafeUninitializedCapacity: pixelCount * 3) { rgb, initialized in
            for index in 0..<pixelCount {
                let alpha = UInt32(rgba[index * 4 + 3])
                for channel in 0..<3 {
                    let value = UInt32(rgba[index * 4 + channel])
                    rgb[index * 3 + channel] = UInt8((value * alpha + 255 * (255 - alpha) + 127) / 255)
                }
            }
            initialized = pixelCount * 3
        }
    }

    private static func reason(for error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError,
           underlying.domain == NSPOSIXErrorDomain,
           let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            return String(cString: strerror(code.rawValue))
        }
        if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadNoSuchFileError {
            return "no such file"
        }
        return nsError.localizedDescription
    }
}
