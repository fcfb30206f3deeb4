import CBLAS
import CKernels

/// The float32 kernels of the engine. Activations are NHWC: a row of C channels per pixel, so a
/// 1x1 convolution over M pixels is one sgemm and a depthwise convolution vectorises over channels.
public enum Kernels {
    public typealias Vector = SIMD16<Float>

    /// TensorFlow SAME padding: the output size and the padding before (top or left);
    /// when the total is odd the extra pixel goes after (bottom or right).
    public static func samePadding(size: Int, kernel: Int, stride: Int) -> (output: Int, before: Int) {
        let output = (size + stride - 1) / stride
        let total = max((output - 1) * stride + kernel - size, 0)
        return (output, total / 2)
    }

    /// `output[M, outC] = input[M, inC] x weights[outC, inC]^T` with OpenBLAS.
    public static func pointwise(_ input: UnsafePointer<Float>, rows: Int, inChannels: Int,
                          weights: UnsafePointer<Float>, outChannels: Int, output: UnsafeMutablePointer<Float>) {
        fish_sgemm(0, 1, Int32(rows), Int32(outChannels), Int32(inChannels),
                   1, input, Int32(inChannels), weights, Int32(inChannels), 0, output, Int32(outChannels))
    }

    /// Adds `bias` to every row of `data[rows, channels]`, then either clamps to [0, 6] (ReLU6)
    /// or adds `residual`, in one pass.
    public static func addBias(_ data: UnsafeMutablePointer<Float>, rows: Int, channels: Int, bias: UnsafePointer<Float>,
                               relu6: Bool, residual: UnsafePointer<Float>?) {
        let vectorEnd = channels - channels % Vector.scalarCount
        for row in 0..<rows {
            let line = data + row * channels
            let skip = residual.map { $0 + row * channels }
            var c = 0
            while c < vectorEnd {
                var value = load(line + c) + load(bias + c)
                if let skip { value += load(skip + c) }
                if relu6 { value = clampToReLU6(value) }
                store(value, line + c)
                c += Vector.scalarCount
            }
            while c < channels {
                var value = line[c] + bias[c] + (skip?[c] ?? 0)
                if relu6 { value = min(max(value, 0), 6) }
                line[c] = value
                c += 1
            }
        }
    }

    /// Rows per tile of a fused 1x1 convolution: small enough that the tile's output is still in
    /// cache when its bias pass runs, large enough for sgemm to run at full speed.
    static let pointwiseTileRows = 256

    /// A 1x1 convolution over `rows` pixels with bias and ReLU6 (or a residual) fused: the rows are
    /// split between `threads` threads and processed in tiles, each an sgemm (single-threaded
    /// OpenBLAS) followed at once by the bias pass on the same rows.
    public static func pointwiseFused(_ input: UnsafePointer<Float>, rows: Int, inChannels: Int,
                                      weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, outChannels: Int,
                                      relu6: Bool, residual: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                                      threads: Int) {
        let parts = min(threads, max(rows / pointwiseTileRows, 1))
        Parallel.ranges(rows, threads: parts) { range in
            var start = range.lowerBound
            while start < range.upperBound {
                let count = min(pointwiseTileRows, range.upperBound - start)
                let target = output + start * outChannels
                pointwise(input + start * inChannels, rows: count, inChannels: inChannels, weights: weights,
                          outChannels: outChannels, output: target)
                addBias(target, rows: count, channels: outChannels, bias: bias, relu6: relu6,
                        residual: residual.map { $0 + start * outChannels })
                start += count
            }
        }
    }

    /// Depthwise k x k convolution with TF SAME padding, bias and ReLU6 fused, output rows split
    /// between `threads` threads. `weights` are tap-major: `weights[(ky * k + kx) * C + c]`.
    public static func depthwise(_ input: UnsafePointer<Float>, batch: Int, height: Int, width: Int, channels: Int,
                                 weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, kernel: Int, stride: Int,
                                 output: UnsafeMutablePointer<Float>, threads: Int) {
        let (outHeight, padTop) = samePadding(size: height, kernel: kernel, stride: stride)
        let (outWidth, padLeft) = samePadding(size: width, kernel: kernel, stride: stride)
        Parallel.ranges(batch * outHeight, threads: threads) { range in
            fish_depthwise(input, Int32(height), Int32(width), Int32(channels), weights, bias, Int32(kernel), Int32(stride),
                           Int32(padTop), Int32(padLeft), Int32(outHeight), Int32(outWidth), Int32(range.lowerBound),
                           Int32(range.upperBound), 1, output)
        }
    }

    /// Gathers k x k x C patches (TF SAME padding, zeros outside) into rows of `k * k * C`
    /// values ordered (ky, kx, c): the stem convolution then is one sgemm.
    public static func im2col(_ input: UnsafePointer<Float>, batch: Int, height: Int, width: Int, channels: Int,
                       kernel: Int, stride: Int, output: UnsafeMutablePointer<Float>, threads: Int) {
        let (outHeight, padTop) = samePadding(size: height, kernel: kernel, stride: stride)
        let (outWidth, padLeft) = samePadding(size: width, kernel: kernel, stride: stride)
        let patch = kernel * kernel * channels
        Parallel.ranges(batch * outHeight, threads: threads) { range in
            for imageRow in range {
                let image = imageRow / outHeight, oy = imageRow % outHeight
                let source = input + image * height * width * channels
                for ox in 0..<outWidth {
                    var target = output + ((image * outHeight + oy) * outWidth + ox) * patch
                    for ky in 0..<kernel {
                        let iy = oy * stride + ky - padTop
                        for kx in 0..<kernel {
                            let ix = ox * stride + kx - padLeft
                            if iy < 0 || iy >= height || ix < 0 || ix >= width {
                                target.update(repeating: 0, count: channels)
                            } else {
                                target.update(from: source + (iy * width + ix) * channels, count: channels)
                            }
                            target += channels
                        }
                    }
                }
            }
        }
    }

    /// Averages each image's `pixels` rows of `data` into one row of `channels` values.
    public static func globalAveragePool(_ data: UnsafePointer<Float>, batch: Int, pixels: Int, channels: Int,
                                  output: UnsafeMutablePointer<Float>) {
        let scale = 1 / Float(pixels)
        for image in 0..<batch {
            let target = output + image * channels
            target.update(repeating: 0, count: channels)
            for pixel in 0..<pixels {
                let row = data + (image * pixels + pixel) * channels
                for c in 0..<channels { target[c] += row[c] }
            }
            for c in 0..<channels { target[c] *= scale }
        }
    }

    /// min(max(v, 0), 6) per lane. (`clamped` and `pointwiseMin` compile to scalar loops,
    /// about 60x slower; masked `replace` compiles to vector compares and blends.)
    @inline(__always) static func clampToReLU6(_ value: Vector) -> Vector {
        var result = value
        result.replace(with: 0, where: result .< 0)
        result.replace(with: 6, where: result .> 6)
        return result
    }

    @inline(__always) static func load(_ pointer: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
    }

    @inline(__always) static func load(_ pointer: UnsafeMutablePointer<Float>) -> Vector {
        UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
    }

    @inline(__always) static func store(_ value: Vector, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: Vector.self)
    }
}
