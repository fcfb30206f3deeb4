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
        return resized(
            width: newWidth, height: newHeight, method: method,
            columns: 0..<newWidth, rows: 0..<newHeight)
    }

    /// The region `columns` x `rows` of this image resampled to `width` x `height`, computed without
    /// resampling the rest: the work and memory follow the region, not the virtual size.
    public func resized(
        width newWidth: Int, height newHeight: Int, method: ResizeMethod,
        columns: Range<Int>, rows: Range<Int>
    ) -> RGBImage {
        precondition(
            columns.lowerBound >= 0 && columns.upperBound <= newWidth && !columns.isEmpty
                && rows.lowerBound >= 0 && rows.upperBound <= newHeight && !rows.isEmpty,
            "resize region outside the target")
        if newWidth == width && newHeight == height {
            // Resampling to the same size gives the source pixels: the region is a plain crop.
            return cropped(left: columns.lowerBound, top: rows.lowerBound, width: columns.count, height: rows.count)
        }
        let useArea: Bool
        switch method {
        case .bilinear: useArea = false
        case .area: useArea = true
        case .auto: useArea = width > 2 * newWidth || height > 2 * newHeight
        }
        if useArea {
            return area(
                xWeights: Self.areaWeights(from: width, to: newWidth, indices: columns),
                yWeights: Self.areaWeights(from: height, to: newHeight, indices: rows))
        }
        return bilinear(
            xTaps: Self.bilinearTaps(from: width, to: newWidth, indices: columns),
            yTaps: Self.bilinearTaps(from: height, to: newHeight, indices: rows))
    }

    private func bilinear(xTaps: [(Int, Int, Float)], yTaps: [(Int, Int, Float)]) -> RGBImage {
        let newWidth = xTaps.count
        let newHeight = yTaps.count
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

    /// For each output coordinate in `indices` of a `target`-long axis: the two source coordinates
    /// and the weight of the second.
    private static func bilinearTaps(from source: Int, to target: Int, indices: Range<Int>) -> [(Int, Int, Float)] {
        let scale = Double(source) / Double(target)
        return indices.map { index in
            let position = min(max((Double(index) + 0.5) * scale - 0.5, 0), Double(source - 1))
            let lower = Int(position)
            return (lower, min(lower + 1, source - 1), Float(position - Double(lower)))
        }
    }

    private func area(xWeights: [[(Int, Float)]], yWeights: [[(Int, Float)]]) -> RGBImage {
        // Separable: average rows into columns first, then columns into rows. Only the source rows
        // the output rows cover take the first pass.
        let newWidth = xWeights.count
        let firstRow = yWeights.compactMap { $0.first?.0 }.min() ?? 0
        let lastRow = yWeights.compactMap { $0.last?.0 }.max() ?? 0
        var horizontal = [Float](repeating: 0, count: newWidth * (lastRow - firstRow + 1) * 3)
        for y in firstRow...lastRow {
            let rowOffset = (y - firstRow) * newWidth
            for (x, taps) in xWeights.enumerated() {
                for (sx, weight) in taps {
                    for c in 0..<3 {
                        horizontal[(rowOffset + x) * 3 + c] += weight * Float(pixels[(y * width + sx) * 3 + c])
                    }
                }
            }
        }
        var output = [UInt8](repeating: 0, count: newWidth * yWeights.count * 3)
        for (y, taps) in yWeights.enumerated() {
            for x in 0..<newWidth {
                for c in 0..<3 {
                    var sum: Float = 0
                    for (sy, weight) in taps { sum += weight * horizontal[((sy - firstRow) * newWidth + x) * 3 + c] }
                    output[(y * newWidth + x) * 3 + c] = Self.toByte(sum)
                }
            }
        }
        return RGBImage(width: newWidth, height: yWeights.count, pixels: output)
    }

    /// For each output coordinate in `indices` of a `target`-long axis: the source coordinates it
    /// covers and their normalised weights.
    private static func areaWeights(from source: Int, to target: Int, indices: Range<Int>) -> [[(Int, Float)]] {
        let scale = Double(source) / Double(target)
        return indices.map { index in
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
