public import FishRecords

/// How a model turns a decoded image into its input tensor; stored in every model package.
public struct Preprocessing: Codable, Sendable, Equatable {
    /// How the image is fitted to the square input.
    public typealias Fit = ImageFit

    public var inputSize: Int
    public var resizeShorterSide: Int
    public var fit: Fit
    public var resize: ResizeMethod
    /// Per-channel (R, G, B) values subtracted from the 0-255 pixel values.
    public var mean: [Float]
    /// Per-channel (R, G, B) divisors applied after subtracting `mean`.
    public var std: [Float]

    /// The TF EfficientNet-Lite convention at Lite0's size: 256 shorter side, 224 centre crop,
    /// (x - 127) / 128.
    public static let efficientNetLite = efficientNetLite(inputSize: 224)

    /// The TF EfficientNet-Lite convention at `inputSize`: the shorter side resized to 32 pixels
    /// more, a centre crop of `inputSize`, (x - 127) / 128.
    public static func efficientNetLite(inputSize: Int) -> Preprocessing {
        Preprocessing(
            inputSize: inputSize, resizeShorterSide: inputSize + 32, fit: .centerCrop, resize: .auto,
            mean: [127, 127, 127], std: [128, 128, 128])
    }

    public init(inputSize: Int, resizeShorterSide: Int, fit: Fit, resize: ResizeMethod, mean: [Float], std: [Float]) {
        self.inputSize = inputSize
        self.resizeShorterSide = resizeShorterSide
        self.fit = fit
        self.resize = resize
        self.mean = mean
        self.std = std
    }

    /// Why these settings cannot be used, or nil when they are consistent.
    public var problem: String? {
        if inputSize < 1 || inputSize > 4096 { return "input_size \(inputSize) is outside 1...4096" }
        if fit == .centerCrop && (resizeShorterSide < inputSize || resizeShorterSide > 8192) {
            return "resize_shorter_side \(resizeShorterSide) must be between input_size and 8192"
        }
        if mean.count != 3 || std.count != 3 { return "mean and std need 3 values (R, G, B)" }
        if std.contains(where: { !($0.isFinite && $0 != 0) }) { return "std values must be finite and non-zero" }
        return nil
    }

    /// The image resized and cropped (or padded) to `inputSize` x `inputSize`.
    public func fitted(_ image: RGBImage) -> RGBImage {
        switch fit {
        case .squash:
            return image.resized(width: inputSize, height: inputSize, method: resize)
        case .letterbox:
            return letterboxed(image)
        case .centerCrop:
            // The crop is resampled straight from the source: only its inputSize x inputSize
            // pixels are computed, however long the resized image would be.
            let shorter = min(image.width, image.height)
            let longer = max(image.width, image.height)
            let scaledLonger = max(
                Int((Double(longer) * Double(resizeShorterSide) / Double(shorter)).rounded()), resizeShorterSide)
            let (width, height) =
                image.width <= image.height
                ? (resizeShorterSide, scaledLonger) : (scaledLonger, resizeShorterSide)
            let left = (width - inputSize) / 2
            let top = (height - inputSize) / 2
            return image.resized(
                width: width, height: height, method: resize,
                columns: left..<(left + inputSize), rows: top..<(top + inputSize))
        }
    }

    /// `image` scaled so its longer side is `inputSize`, centred on an `inputSize` square of the mean colour.
    private func letterboxed(_ image: RGBImage) -> RGBImage {
        let longer = max(image.width, image.height)
        let scaled = { (side: Int) in min(max(Int((Double(side) * Double(inputSize) / Double(longer)).rounded()), 1), inputSize) }
        let resized = image.resized(width: scaled(image.width), height: scaled(image.height), method: resize)
        let fill = mean.map { UInt8(clamping: Int($0.rounded())) }
        var pixels = [UInt8](repeating: 0, count: inputSize * inputSize * 3)
        for index in 0..<(inputSize * inputSize) {
            pixels[index * 3] = fill[0]
            pixels[index * 3 + 1] = fill[1]
            pixels[index * 3 + 2] = fill[2]
        }
        let (left, top) = ((inputSize - resized.width) / 2, (inputSize - resized.height) / 2)
        for row in 0..<resized.height {
            let source = row * resized.width * 3
            let target = ((top + row) * inputSize + left) * 3
            pixels.replaceSubrange(
                target..<(target + resized.width * 3), with: resized.pixels[source..<(source + resized.width * 3)])
        }
        return RGBImage(width: inputSize, height: inputSize, pixels: pixels)
    }

    /// Writes the normalised input (NHWC: rows, columns, then R, G, B) of `image` into `target`,
    /// which holds `inputSize * inputSize * 3` floats.
    public func writeTensor(of image: RGBImage, into target: UnsafeMutableBufferPointer<Float>) {
        let input = fitted(image)
        let scale = std.map { 1 / $0 }
        input.pixels.withUnsafeBufferPointer { pixels in
            for index in 0..<(inputSize * inputSize) {
                for channel in 0..<3 {
                    target[index * 3 + channel] = (Float(pixels[index * 3 + channel]) - mean[channel]) * scale[channel]
                }
            }
        }
    }
}

extension RGBImage {
    /// The `width` x `height` region whose top-left corner is (`left`, `top`).
    public func cropped(left: Int, top: Int, width newWidth: Int, height newHeight: Int) -> RGBImage {
        precondition(
            left >= 0 && top >= 0 && left + newWidth <= width && top + newHeight <= height,
            "crop outside the image")
        var output = [UInt8]()
        output.reserveCapacity(newWidth * newHeight * 3)
        for y in top..<(top + newHeight) {
            let start = (y * width + left) * 3
            output.append(contentsOf: pixels[start..<(start + newWidth * 3)])
        }
        return RGBImage(width: newWidth, height: newHeight, pixels: output)
    }
}
