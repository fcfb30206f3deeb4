/// How an image is resampled to a new size.
public enum ResizeMethod: String, Codable, Sendable, CaseIterable {
    /// Bilinear with half-pixel centres and no antialiasing (the reference's method).
    case bilinear
    /// Area averaging (box filter with fractional coverage): antialiased downscaling.
    case area
    /// Bilinear unless the image shrinks by more than 2x on an axis, then area.
    case auto
}

extension RGBImage {
    /// This image resampled to `width` x `height`, values rounded to 8 bits.
    public func resized(width newWidth: Int, height newHeight: Int, method: ResizeMethod) -> RGBImage {
        if newWidth == width && newHeight == height { return self }
        switch method {
        case .bilinear: return bilinear(width: newWidth, height: newHeight)
        case .area: return area(width: newWidth, height: newHeight)
        case .auto:
            let shrinksALot = width > 2 * newWidth || height > 2 * newHeight
            return shrinksALot ? area(width: newWidth, height: newHeight) : bilinear(width: newWidth, height: newHeight)
        }
    }

    private func bilinear(width newWidth: Int, height newHeight: Int) -> RGBImage {
        let xTaps = Self.bilinearTaps(from: width, to: newWidth)
        let yTaps = Self.bilinearTaps(from: height, to: newHeight)
        var output = [UInt8](repeating: 0, count: newWidth * newHeight * 3)
        pixels.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                for y in 0..<newHeight {
                    let (y0, y1, fy) = yTaps[y]
                    for x in 0..<newWidth {
                        let (x0, x1, fx) = xTaps[x]
                        for c in 0..<3 {
                            let p00 = Float(source[(y0 * width + x0) * 3 + c])
                            let p01 = Float(source[(y0 * width + x1) * 3 + c])
                            let p10 = Float(source[(y1 * width + x0) * 3 + c])
                            let p11 = Float(source[(y1 * width + x1) * 3 + c])
                            let top = p00 + (p01 - p00) * fx
                            let bottom = p10 + (p11 - p10) * fx
                            target[(y * newWidth + x) * 3 + c] = Self.toByte(top + (bottom - top) * fy)
                        }
                    }
                }
            }
        }
        return RGBImage(width: newWidth, height: newHeight, pixels: output)
    }

    /// For each output coordinate: the two source coordinates and the weight of the second.
    private static func bilinearTaps(from source: Int, to target: Int) -> [(Int, Int, Float)] {
        let scale = Double(source) / Double(target)
        return (0..<target).map { index in
            let position = min(max((Double(index) + 0.5) * scale - 0.5, 0), Double(source - 1))
            let lower = Int(position)
            return (lower, min(lower + 1, source - 1), Float(position - Double(lower)))
        }
    }

    private func area(width newWidth: Int, height newHeight: Int) -> RGBImage {
        // Separable: average rows into columns first, then columns into rows.
        let xWeights = Self.areaWeights(from: width, to: newWidth)
        let yWeights = Self.areaWeights(from: height, to: newHeight)
        var horizontal = [Float](repeating: 0, count: newWidth * height * 3)
        for y in 0..<height {
            for (x, taps) in xWeights.enumerated() {
                for (sx, weight) in taps {
                    for c in 0..<3 {
                        horizontal[(y * newWidth + x) * 3 + c] += weight * Float(pixels[(y * width + sx) * 3 + c])
                    }
                }
            }
        }
        var output = [UInt8](repeating: 0, count: newWidth * newHeight * 3)
        for (y, taps) in yWeights.enumerated() {
            for x in 0..<newWidth {
                for c in 0..<3 {
                    var sum: Float = 0
                    for (sy, weight) in taps { sum += weight * horizontal[(sy * newWidth + x) * 3 + c] }
                    output[(y * newWidth + x) * 3 + c] = Self.toByte(sum)
                }
            }
        }
        return RGBImage(width: newWidth, height: newHeight, pixels: output)
    }

    /// For each output coordinate: the source coordinates it covers and their normalised weights.
    private static func areaWeights(from source: Int, to target: Int) -> [[(Int, Float)]] {
        let scale = Double(source) / Double(target)
        return (0..<target).map { index in
            let start = Double(index) * scale
            let end = min(Double(index + 1) * scale, Double(source))
            if end - start <= 1 {
                // Upscaling along this axis: fall back to the nearest source pixel.
                return [(min(Int(start + (end - start) / 2), source - 1), 1)]
            }
            var taps: [(Int, Float)] = []
            var position = Int(start)
            while Double(position) < end {
                let covered = min(Double(position + 1), end) - max(Double(position), start)
                if covered > 0 { taps.append((position, Float(covered / (end - start)))) }
                position += 1
            }
            return taps
        }
    }

    private static func toByte(_ value: Float) -> UInt8 {
        UInt8(min(max(value.rounded(), 0), 255))
    }
}
