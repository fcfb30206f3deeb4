import CBLAS
import CKernels

/// The number types the trainable layers run in: `Float` on OpenBLAS for training, `Double` for
/// gradient checks against finite differences.
public protocol TrainingScalar: BinaryFloatingPoint, Sendable {
    /// Row-major `C[m, n] = alpha * op(A)[m, k] x op(B)[k, n] + beta * C`.
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Self,
        a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int, beta: Self,
        c: UnsafeMutablePointer<Self>, ldc: Int)

    /// Depthwise convolution of NHWC `input` with tap-major weights (TF-SAME padding, no bias).
    static func depthwise(
        _ input: UnsafePointer<Self>, batch: Int, side: Int, channels: Int, taps: UnsafePointer<Self>, kernel: Int,
        stride: Int, output: UnsafeMutablePointer<Self>)

    /// Adds the depthwise convolution's gradients into `dtaps` and, unless nil, `dx`.
    static func depthwiseBackward(
        _ input: UnsafePointer<Self>, _ dy: UnsafePointer<Self>, batch: Int, side: Int, channels: Int,
        taps: UnsafePointer<Self>, kernel: Int, stride: Int, dx: UnsafeMutablePointer<Self>?,
        dtaps: UnsafeMutablePointer<Self>)
}

extension Float: TrainingScalar {
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        fish_sgemm(
            transposeA ? 1 : 0, transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
            beta, c, Int32(ldc))
    }
}

extension Float {
    public static func depthwise(
        _ input: UnsafePointer<Float>, batch: Int, side: Int, channels: Int, taps: UnsafePointer<Float>,
        kernel: Int, stride: Int, output: UnsafeMutablePointer<Float>
    ) {
        let (out, pad) = Kernels.samePadding(size: side, kernel: kernel, stride: stride)
        // The best instruction set always runs, so the call cannot fail.
        _ = fish_depthwise(
            InstructionSet.engine.rawValue, input, Int32(side), Int32(side), Int32(channels), taps, nil,
            Int32(kernel), Int32(stride), Int32(pad), Int32(pad), Int32(out), Int32(out), 0, Int32(batch * out),
            0, Int32(channels), 0, output)
    }

    public static func depthwiseBackward(
        _ input: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, batch: Int, side: Int, channels: Int,
        taps: UnsafePointer<Float>, kernel: Int, stride: Int, dx: UnsafeMutablePointer<Float>?,
        dtaps: UnsafeMutablePointer<Float>
    ) {
        let (out, pad) = Kernels.samePadding(size: side, kernel: kernel, stride: stride)
        fish_depthwise_backward(
            input, dy, Int32(batch), Int32(side), Int32(side), Int32(channels), taps, Int32(kernel), Int32(stride),
            Int32(pad), Int32(pad), Int32(out), Int32(out), dx, dtaps)
    }
}

extension Double: TrainingScalar {
    /// Plain loops (gradient checks).
    public static func depthwise(
        _ input: UnsafePointer<Double>, batch: Int, side: Int, channels: Int, taps: UnsafePointer<Double>,
        kernel: Int, stride: Int, output: UnsafeMutablePointer<Double>
    ) {
        Layers.forEachTap(batch: batch, side: side, kernel: kernel, stride: stride) { pixel, outputPixel, ky, kx in
            let (source, target, tap) = (pixel * channels, outputPixel * channels, (ky * kernel + kx) * channels)
            for c in 0..<channels { output[target + c] += input[source + c] * taps[tap + c] }
        }
    }

    public static func depthwiseBackward(
        _ input: UnsafePointer<Double>, _ dy: UnsafePointer<Double>, batch: Int, side: Int, channels: Int,
        taps: UnsafePointer<Double>, kernel: Int, stride: Int, dx: UnsafeMutablePointer<Double>?,
        dtaps: UnsafeMutablePointer<Double>
    ) {
        Layers.forEachTap(batch: batch, side: side, kernel: kernel, stride: stride) { pixel, outputPixel, ky, kx in
            let (source, target, tap) = (pixel * channels, outputPixel * channels, (ky * kernel + kx) * channels)
            for c in 0..<channels {
                dtaps[tap + c] += dy[target + c] * input[source + c]
                dx?[source + c] += dy[target + c] * taps[tap + c]
            }
        }
    }

    /// Plain loops: gradient checks run on small shapes.
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double,
        a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int, beta: Double,
        c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        for row in 0..<m {
            for column in 0..<n {
                var sum = 0.0
                for inner in 0..<k {
                    sum +=
                        a[transposeA ? inner * lda + row : row * lda + inner]
                        * b[transposeB ? column * ldb + inner : inner * ldb + column]
                }
                c[row * ldc + column] = alpha * sum + (beta == 0 ? 0 : beta * c[row * ldc + column])
            }
        }
    }
}

/// `C = op(A) x op(B)` (or `C += ...` when `accumulate`) on arrays.
@inlinable
func matmul<T: TrainingScalar>(
    _ a: [T], _ b: [T], into c: inout [T], m: Int, n: Int, k: Int,
    transposeA: Bool = false, transposeB: Bool = false, accumulate: Bool = false
) {
    guard m > 0, n > 0, k > 0 else { return }
    a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
            c.withUnsafeMutableBufferPointer { c in
                T.gemm(
                    transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1, a: a.baseAddress!,
                    lda: transposeA ? m : k, b: b.baseAddress!, ldb: transposeB ? k : n, beta: accumulate ? 1 : 0,
                    c: c.baseAddress!, ldc: n)
            }
        }
    }
}
