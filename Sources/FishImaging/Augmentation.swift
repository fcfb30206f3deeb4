/// A random but reproducible training view of an image: a crop of 80-100% of each side,
/// a horizontal flip half of the time, and up to ±10% brightness, contrast and saturation.
public struct Augmentation: Sendable, Equatable {
    public let cropScale: Double
    /// Where the crop sits in the free space, 0...1 on each axis.
    public let cropX: Double
    public let cropY: Double
    public let flip: Bool
    public let brightness: Double
    public let contrast: Double
    public let saturation: Double

    /// A view with the given parameters (fractions as documented on the properties).
    public init(
        cropScale: Double, cropX: Double, cropY: Double, flip: Bool, brightness: Double, contrast: Double,
        saturation: Double
    ) {
        self.cropScale = cropScale
        self.cropX = cropX
        self.cropY = cropY
        self.flip = flip
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
    }

    /// Draws the view's parameters from `random` (any generator: callers seed it per image and view).
    public init(random: inout some RandomNumberGenerator) {
        cropScale = Double.random(in: 0.8...1, using: &random)
        cropX = Double.random(in: 0...1, using: &random)
        cropY = Double.random(in: 0...1, using: &random)
        flip = Bool.random(using: &random)
        brightness = Double.random(in: -0.1...0.1, using: &random)
        contrast = Double.random(in: -0.1...0.1, using: &random)
        saturation = Double.random(in: -0.1...0.1, using: &random)
    }

    /// The augmented image.
    public func apply(to image: RGBImage) -> RGBImage {
        let width = max(Int(Double(image.width) * cropScale), 1)
        let height = max(Int(Double(image.height) * cropScale), 1)
        let cropped = image.cropped(
            left: Int(Double(image.width - width) * cropX),
            top: Int(Double(image.height - height) * cropY), width: width, height: height)
        var pixels = cropped.pixels
        let mean = pixels.reduce(0.0) { $0 + Double($1) } / Double(max(pixels.count, 1))
        for start in stride(from: 0, to: pixels.count, by: 3) {
            let r = Double(pixels[start])
            let g = Double(pixels[start + 1])
            let b = Double(pixels[start + 2])
            let grey = 0.299 * r + 0.587 * g + 0.114 * b
            func adjusted(_ value: Double) -> UInt8 {
                let saturated = grey + (value - grey) * (1 + saturation)
                let contrasted = mean + (saturated - mean) * (1 + contrast)
                return UInt8(min(max((contrasted * (1 + brightness)).rounded(), 0), 255))
            }
            pixels[start] = adjusted(r)
            pixels[start + 1] = adjusted(g)
            pixels[start + 2] = adjusted(b)
        }
        if flip {
            for y in 0..<height {
                for x in 0..<(width / 2) {
                    for channel in 0..<3 {
                        pixels.swapAt((y * width + x) * 3 + channel, (y * width + width - 1 - x) * 3 + channel)
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}
