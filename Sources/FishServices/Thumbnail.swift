import FishImaging

/// A small copy of a classified image, for a preview beside its classes.
public struct Thumbnail: Sendable, Equatable {
    private let image: RGBImage
    public var width: Int { image.width }
    public var height: Int { image.height }

    /// `image` shrunk (area averaging) to fit `maxWidth` x `maxHeight`, its height rounded down to an
    /// even number (a terminal cell draws two pixel rows), at least 1 x 2.
    init(_ image: RGBImage, maxWidth: Int, maxHeight: Int) {
        let scale = min(Double(maxWidth) / Double(image.width), Double(maxHeight) / Double(image.height))
        let width = max(Int(Double(image.width) * scale), 1)
        let height = max(Int(Double(image.height) * scale) / 2 * 2, 2)
        self.image = image.resized(width: width, height: height, method: .area)
    }

    /// The colour at (`x`, `y`).
    public func pixel(x: Int, y: Int) -> (red: UInt8, green: UInt8, blue: UInt8) { image.pixel(x: x, y: y) }
}
