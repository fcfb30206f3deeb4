/// Why an image could not be read; every message names the file and says what to do.
public enum ImagingError: Error, Equatable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    case empty(file: String)
    case unsupportedFormat(file: String, detail: String)
    case tooLarge(file: String, detail: String)
    case badShape(file: String, detail: String)
    case corrupt(file: String, format: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot read the file (\(reason))"
        case let .empty(file):
            return "\(file): the file is empty (0 bytes)"
        case let .unsupportedFormat(file, detail):
            return "\(file): unsupported image format (\(detail)); use JPEG or PNG"
        case let .tooLarge(file, detail):
            return "\(file): \(detail); downscale it or raise the pixel limit (FISHOPS_MAX_PIXELS)"
        case let .badShape(file, detail):
            return "\(file): \(detail); crop it to the subject"
        case let .corrupt(file, format, reason):
            return "\(file): corrupt or truncated \(format) (\(reason))"
        }
    }
}
