import Foundation

/// Forward and backward passes of the layers EfficientNet-Lite0 uses, on NHWC activations
/// (`rows = batch * height * width` rows of `channels` values). Weights use PyTorch's layouts.
/// Backward functions take what the forward pass saw and the gradient of its output.
public enum Layers {
    // MARK: 1x1 convolution (and the stem's im2col rows): y = x W^T, W [out, in]

    public static func pointwise<T: TrainingScalar>(_ x: [T], rows: Int, weights: [T], inputs: Int, outputs: Int) -> [T] {
        var y = [T](repeating: 0, count: rows * outputs)
        matmul(x, weights, into: &y, m: rows, n: outputs, k: inputs, transposeB: true)
        return y
    }

    /// Returns dx (when `needInput`) and dW.
    public static func pointwiseBackward<T: TrainingScalar>(
        _ x: [T], _ dy: [T], rows: Int, weights: [T], inputs: Int, outputs: Int,
        needInput: Bool = true
    ) -> (dx: [T], dw: [T]) {
        var dw = [T](repeating: 0, count: outputs * inputs)
        matmul(dy, x, into: &dw, m: outputs, n: inputs, k: rows, transposeA: true)
        var dx: [T] = []
        if needInput {
            dx = [T](repeating: 0, count: rows * inputs)
            matmul(dy, weights, into: &dx, m: rows, n: inputs, k: outputs)
        }
        return (dx, dw)
    }

    // MARK: batch norm with frozen statistics and a trainable scale and shift

    public static func norm<T: TrainingScalar>(
        _ x: [T], channels: Int, gamma: [T], beta: [T], mean: [T], variance: [T], epsilon: T
    ) -> [T] {
        let inverse = variance.map { 1 / ($0 + epsilon).squareRoot() }
        var y = x
        y.withUnsafeMutableBufferPointer { y in
            for row in 0..<(y.count / channels) {
                for c in 0..<channels {
                    let index = row * channels + c
                    y[index] = (y[index] - mean[c]) * inverse[c] * gamma[c] + beta[c]
                }
            }
        }
        return y
    }

    /// Returns dx, dgamma, dbeta.
    public static func normBackward<T: TrainingScalar>(
        _ x: [T], _ dy: [T], channels: Int, gamma: [T], mean: [T], variance: [T],
        epsilon: T
    ) -> (dx: [T], dgamma: [T], dbeta: [T]) {
        let inverse = variance.map { 1 / ($0 + epsilon).squareRoot() }
        var dx = dy
        var dgamma = [T](repeating: 0, count: channels)
        var dbeta = [T](repeating: 0, count: channels)
        for row in 0..<(x.count / channels) {
            for c in 0..<channels {
                let index = row * channels + c
                dgamma[c] += dy[index] * (x[index] - mean[c]) * inverse[c]
                dbeta[c] += dy[index]
                dx[index] = dy[index] * gamma[c] * inverse[c]
            }
        }
        return (dx, dgamma, dbeta)
    }

    // MARK: ReLU6

    public static func relu6<T: TrainingScalar>(_ x: [T]) -> [T] {
        x.map { min(max($0, 0), 6) }
    }

    /// The gradient through ReLU6, from its output `y`.
    public static func relu6Backward<T: TrainingScalar>(_ y: [T], _ dy: [T]) -> [T] {
        zip(y, dy).map { $0 > 0 && $0 < 6 ? $1 : 0 }
    }

    // MARK: depthwise convolution, TF-SAME padding, W [channels, k, k]

    public static func depthwise<T: TrainingScalar>(
        _ x: [T], batch: Int, side: Int, channels: Int, weights: [T], kernel: Int,
        stride: Int
    ) -> (y: [T], side: Int) {
        let out = Kernels.samePadding(size: side, kernel: kernel, stride: stride).output
        var y = [T](repeating: 0, count: batch * out * out * channels)
        let taps = tapMajor(weights, channels: channels, kernel: kernel)
        x.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { y in
                taps.withUnsafeBufferPointer { w in
                    T.depthwise(
                        x.baseAddress!, batch: batch, side: side, channels: channels, taps: w.baseAddress!, kernel: kernel,
                        stride: stride, output: y.baseAddress!)
                }
            }
        }
        return (y, out)
    }

    /// Returns dx and dW ([channels, k, k]).
    public static func depthwiseBackward<T: TrainingScalar>(
        _ x: [T], _ dy: [T], batch: Int, side: Int, channels: Int, weights: [T],
        kernel: Int, stride: Int, needInput: Bool = true
    ) -> (dx: [T], dw: [T]) {
        var dx = [T](repeating: 0, count: needInput ? x.count : 0)
        var dtaps = [T](repeating: 0, count: weights.count)
        let taps = tapMajor(weights, channels: channels, kernel: kernel)
        x.withUnsafeBufferPointer { x in
            dy.withUnsafeBufferPointer { dy in
                dx.withUnsafeMutableBufferPointer { dx in
                    dtaps.withUnsafeMutableBufferPointer { dw in
                        taps.withUnsafeBufferPointer { w in
                            T.depthwiseBackward(
                                x.baseAddress!, dy.baseAddress!, batch: batch, side: side, channels: channels,
                                taps: w.baseAddress!, kernel: kernel, stride: stride,
                                dx: needInput ? dx.baseAddress : nil, dtaps: dw.baseAddress!)
                        }
                    }
                }
            }
        }
        return (dx, channelMajor(dtaps, channels: channels, kernel: kernel))
    }

    /// [C, k, k] to [(ky * k + kx) * C + c], so the inner loop runs over contiguous channels.
    static func tapMajor<T: TrainingScalar>(_ weights: [T], channels: Int, kernel: Int) -> [T] {
        let taps = kernel * kernel
        return (0..<(taps * channels)).map { weights[($0 % channels) * taps + $0 / channels] }
    }

    static func channelMajor<T: TrainingScalar>(_ taps: [T], channels: Int, kernel: Int) -> [T] {
        let count = kernel * kernel
        return (0..<(count * channels)).map { taps[($0 % count) * channels + $0 / count] }
    }

    // MARK: full convolution (the stem), TF-SAME padding, W [out, in, k, k], through im2col rows

    /// Visits every tap of a k x k convolution with TF-SAME padding that lands inside the image:
    /// the input pixel and output pixel (indices counted across the batch) and the tap (ky, kx).
    static func forEachTap(batch: Int, side: Int, kernel: Int, stride: Int, _ body: (Int, Int, Int, Int) -> Void) {
        let (out, pad) = Kernels.samePadding(size: side, kernel: kernel, stride: stride)
        for n in 0..<batch {
            for oy in 0..<out {
                for ox in 0..<out {
                    for ky in 0..<kernel {
                        let iy = oy * stride + ky - pad
                        guard iy >= 0 && iy < side else { continue }
                        for kx in 0..<kernel {
                            let ix = ox * stride + kx - pad
                            guard ix >= 0 && ix < side else { continue }
                            body((n * side + iy) * side + ix, (n * out + oy) * out + ox, ky, kx)
                        }
                    }
                }
            }
        }
    }

    /// Patch rows `[batch * out * out, in * k * k]` in PyTorch's (in, ky, kx) order.
    public static func im2col<T: TrainingScalar>(_ x: [T], batch: Int, side: Int, channels: Int, kernel: Int, stride: Int) -> (
        rows: [T], side: Int
    ) {
        let out = Kernels.samePadding(size: side, kernel: kernel, stride: stride).output
        let width = channels * kernel * kernel
        var rows = [T](repeating: 0, count: batch * out * out * width)
        forEachTap(batch: batch, side: side, kernel: kernel, stride: stride) { pixel, row, ky, kx in
            for c in 0..<channels { rows[row * width + (c * kernel + ky) * kernel + kx] = x[pixel * channels + c] }
        }
        return (rows, out)
    }

    /// The gradient of `im2col`: sums each patch row's gradient back onto the input pixels.
    public static func col2im<T: TrainingScalar>(_ rows: [T], batch: Int, side: Int, channels: Int, kernel: Int, stride: Int)
        -> [T]
    {
        let width = channels * kernel * kernel
        var x = [T](repeating: 0, count: batch * side * side * channels)
        forEachTap(batch: batch, side: side, kernel: kernel, stride: stride) { pixel, row, ky, kx in
            for c in 0..<channels { x[pixel * channels + c] += rows[row * width + (c * kernel + ky) * kernel + kx] }
        }
        return x
    }

    // MARK: global average pooling, the classifier, the loss

    public static func averagePool<T: TrainingScalar>(_ x: [T], batch: Int, pixels: Int, channels: Int) -> [T] {
        var y = [T](repeating: 0, count: batch * channels)
        let scale = 1 / T(pixels)
        for n in 0..<batch {
            for p in 0..<pixels {
                for c in 0..<channels { y[n * channels + c] += x[(n * pixels + p) * channels + c] * scale }
            }
        }
        return y
    }

    public static func averagePoolBackward<T: TrainingScalar>(_ dy: [T], batch: Int, pixels: Int, channels: Int) -> [T] {
        let scale = 1 / T(pixels)
        return (0..<(batch * pixels * channels)).map { dy[($0 / (pixels * channels)) * channels + $0 % channels] * scale }
    }

    /// logits = x W^T + b, W [classes, features].
    public static func linear<T: TrainingScalar>(_ x: [T], batch: Int, weights: [T], bias: [T], features: Int) -> [T] {
        var y = pointwise(x, rows: batch, weights: weights, inputs: features, outputs: bias.count)
        for n in 0..<batch { for c in bias.indices { y[n * bias.count + c] += bias[c] } }
        return y
    }

    /// Mean softmax cross-entropy with label smoothing and per-class weights; returns the loss,
    /// its gradient with respect to the logits, and how many rows were classified right.
    /// `normalizer` is the total weight the mean divides by (default: these rows'), so a batch
    /// split into parts gives gradients that add up to the whole batch's.
    public static func crossEntropy<T: TrainingScalar>(
        _ logits: [T], labels: [Int], classes: Int, smoothing: T,
        classWeights: [T]? = nil, normalizer: T? = nil
    ) -> (loss: T, dlogits: [T], correct: Int) {
        var loss: T = 0
        var correct = 0
        var dlogits = [T](repeating: 0, count: logits.count)
        let totalWeight = normalizer ?? labels.reduce(T(0)) { $0 + (classWeights?[$1] ?? 1) }
        for (row, label) in labels.enumerated() {
            let scores = logits[(row * classes)..<((row + 1) * classes)]
            let top = scores.max() ?? 0
            // Log-probabilities in float64 from the shifted logits: finite however far apart the logits are.
            let shifted = scores.map { Double($0 - top) }
            let logSum = log(shifted.reduce(0) { $0 + exp($1) })
            if scores.firstIndex(of: top).map({ $0 - row * classes }) == label { correct += 1 }
            let weight = (classWeights?[label] ?? 1) / totalWeight
            for c in 0..<classes {
                let target = (c == label ? 1 - smoothing : 0) + smoothing / T(classes)
                let logProbability = shifted[c] - logSum
                loss -= weight * target * T(logProbability)
                dlogits[row * classes + c] = weight * (T(exp(logProbability)) - target)
            }
        }
        return (loss, dlogits, correct)
    }
}
