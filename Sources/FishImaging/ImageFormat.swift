/// The image formats FishOps decodes, recognised by their leading bytes, never by file name.
public enum ImageFormat: String, Sendable {
    case jpeg = "JPEG"
    case png = "PNG"

    /// The format whose signature starts `bytes`, or nil.
    public static func sniff(_ bytes: some Collection<UInt8>) -> ImageFormat? {
        let head = Array(bytes.prefix(8))
        if head.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if head == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return .png }
        return nil
    }

    /// A short human description of unknown leading bytes, for error messages.
    static func describeUnknown(_ bytes: [UInt8]) -> String {
        let known: [([UInt8], String)] = [
            (Array("GIF8".utf8), "GIF"), (Array("RIFF".utf8), "RIFF/WebP"), (Array("BM".utf8), "BMP"),
            ([0x49, 0x49, 0x2A, 0x00], "TIFF"), ([0x4D, 0x4D, 0x00, 0x2A], "TIFF"),
            (Array("%PDF".utf8), "PDF"), ([0x50, 0x4B, 0x03, 0x04], "ZIP"),
        ]
        if let match = known.first(where: { bytes.starts(with: $0.0) }) {
            return "looks like \(match.1)"
        }
        let hex = bytes.prefix(4).map { String($0, radix: 16).leftPadded(to: 2) }.joined(separator: " ")
        return "starts with bytes \(hex)"
    }
}

extension String {
    func leftPadded(to length: Int, with pad: Character = "0") -> String {
        count >= length ? self : String(repeating: pad, count: length - count) + self
    }
}
