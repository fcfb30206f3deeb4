import CJPEG
import CPNG
public import Foundation

/// Decodes JPEG and PNG files into `RGBImage`s with libjpeg and libpng.
public struct ImageDecoder: Sendable {
    /// The default pixel limit: 50 megapixels.
    public static let defaultMaxPixels = 50_000_000

    /// The default shape limit: one side at most 100 times the other.
    public static let defaultMaxAspectRatio = 100

    /// Images with more pixels than this are refused before their pixels are allocated.
    public var maxPixels: Int
    /// Images with one side more than this many times the other are refused before decoding:
    /// no photo of a fish is that shape, and fitting one to the model's square input would
    /// stretch a line of pixels into the whole picture.
    public var maxAspectRatio: Int

    public init(
        maxPixels: Int = ImageDecoder.defaultMaxPixels,
        maxAspectRatio: Int = ImageDecoder.defaultMaxAspectRatio
    ) {
        self.maxPixels = maxPixels
        self.maxAspectRatio = maxAspectRatio
    }

    /// Reads and decodes the file at `path`.
    public func decodeFile(atPath path: String) throws(ImagingError) -> RGBImage {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw .unreadable(file: path, reason: Self.reason(for: error, path: path))
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
        let aspect = UInt32(clamping: max(maxAspectRatio, 0))
        let status: Int32 = data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self).baseAddress
            switch format {
            case .jpeg:
                return fish_jpeg_decode(bytes, raw.count, limit, aspect, &output, &width, &height, &message, message.count)
            case .png:
                return fish_png_decode(bytes, raw.count, limit, aspect, &output, &width, &height, &message, message.count)
            }
        }
        let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard status == 0, let output else {
            if status == 2 { throw .tooLarge(file: name, detail: reason) }
            if status == 3 { throw .badShape(file: name, detail: reason) }
            throw .corrupt(file: name, format: format.rawValue, reason: reason)
        }
        let count = Int(width) * Int(height)
        switch format {
        case .jpeg:
            defer { fish_jpeg_free(output) }
            return RGBImage(
                width: Int(width), height: Int(height),
                pixels: Array(UnsafeBufferPointer(start: output, count: count * 3)))
        case .png:
            defer { fish_png_free(output) }
            return RGBImage(
                width: Int(width), height: Int(height),
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

    /// What the system says about `path` ("no such file or directory", "permission denied",
    /// "too many levels of symbolic links", "is a directory"), else Foundation's message.
    private static func reason(for error: any Error, path: String) -> String {
        var status = stat()
        if stat(path, &status) != 0 { return String(cString: strerror(errno)).lowercased() }
        if access(path, R_OK) != 0 { return String(cString: strerror(errno)).lowercased() }
        if status.st_mode & S_IFMT == S_IFDIR { return String(cString: strerror(EISDIR)).lowercased() }
        return (error as NSError).localizedDescription
    }
}
