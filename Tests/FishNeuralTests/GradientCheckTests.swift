import FishNeural
import Foundation
import Testing

/// Every layer's backward pass against central finite differences, in float64, and the same for
/// whole MBConv blocks (expansion, stride 2, kernel 5, residual) and the whole trainable tail.
@Suite struct GradientCheckTests {
    var random = SystemRandomNumberGenerator()

    static func values(_ count: Int, seed: UInt64, range: ClosedRange<Double> = -1...1) -> [Double] {
        var random = SeededRandom(seed, 99)
        return (0..<count).map { _ in Double.random(in: range, using: &random) }
    }

    /// Checks `analytic` (the gradient of `loss` at `point`) against finite differences on up to
    /// 40 coordinates.
    static func check(
        _ analytic: [Double], at point: [Double], _ loss: ([Double]) -> Double, step: Double = 1e-6,
        tolerance: Double = 1e-6, _ what: String
    ) {
        #expect(analytic.count == point.count, "\(what): gradient size")
        let stride = max(point.count / 40, 1)
        for index in Swift.stride(from: 0, to: point.count, by: stride) {
            var plus = point
            var minus = point
            plus[index] += step
            minus[index] -= step
            let numeric = (loss(plus) - loss(minus)) / (2 * step)
            let scale = max(abs(numeric), abs(analytic[index]), 1e-3)
            #expect(
                abs(numeric - analytic[index]) / scale < tolerance,
                "\(what)[\(index)]: analytic \(analytic[index]) numeric \(numeric)")
        }
    }

    /// A fixed random projection of an output, so the loss depends on every element.
    static func projection(_ y: [Double], seed: UInt64) -> Double {
        zip(y, values(y.count, seed: seed)).reduce(0) { $0 + $1.0 * $1.1 }
    }

    @Test func pointwise() {
        let (rows, inputs, outputs) = (6, 5, 4)
        let x = Self.values(rows * inputs, seed: 1)
        let w = Self.values(outputs * inputs, seed: 2)
        let dy = Self.values(rows * outputs, seed: 3)
        let (dx, dw) = Layers.pointwiseBackward(x, dy, rows: rows, weights: w, inputs: inputs, outputs: outputs)
        Self.check(
            dx, at: x,
            { Self.projection(Layers.pointwise($0, rows: rows, weights: w, inputs: inputs, outputs: outputs), seed: 3) }, "dx")
        Self.check(
            dw, at: w,
            { Self.projection(Layers.pointwise(x, rows: rows, weights: $0, inputs: inputs, outputs: outputs), seed: 3) }, "dw")
    }

    @Test func batchNormWithFrozenStatistics() {
        let (rows, channels) = (5, 3)
        let x = Self.values(rows * channels, seed: 4)
        let gamma = Self.values(channels, seed: 5)
        let beta = Self.values(channels, seed: 6)
        let mean = Self.values(channels, seed: 7)
        let variance = Self.values(channels, seed: 8, range: 0.2...2)
        func forward(_ x: [Double], _ gamma: [Double], _ beta: [Double]) -> Double {
            Self.projection(
                Layers.norm(x, channels: channels, gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: 1e-3),
                seed: 9)
        }
        let dy = Self.values(rows * channels, seed: 9)
        let (dx, dgamma, dbeta) = Layers.normBackward(
            x, dy, channels: channels, gamma: gamma, mean: mean, variance: variance, epsilon: 1e-3)
        Self.check(dx, at: x, { forward($0, gamma, beta) }, "dx")
        Self.check(dgamma, at: gamma, { forward(x, $0, beta) }, "dgamma")
        Self.check(dbeta, at: beta, { forward(x, gamma, $0) }, "dbeta")
    }

    @Test func relu6AwayFromItsKinks() {
        let x = Self.values(30, seed: 10, range: -3...9).map { abs($0) < 0.01 || abs($0 - 6) < 0.01 ? $0 + 0.1 : $0 }
        let dy = Self.values(30, seed: 11)
        Self.check(Layers.relu6Backward(Layers.relu6(x), dy), at: x, { Self.projection(Layers.relu6($0), seed: 11) }, "dx")
    }

    @Test(arguments: [(3, 1), (3, 2), (5, 1), (5, 2)])
    func depthwiseWithSamePadding(kernel: Int, stride: Int) {
        let (batch, side, channels) = (2, 6, 3)
        let x = Self.values(batch * side * side * channels, seed: 12)
        let w = Self.values(channels * kernel * kernel, seed: 13)
        let out = (side + stride - 1) / stride
        let dy = Self.values(batch * out * out * channels, seed: 14)
        func forward(_ x: [Double], _ w: [Double]) -> Double {
            Self.projection(
                Layers.depthwise(x, batch: batch, side: side, channels: channels, weights: w, kernel: kernel, stride: stride).y,
                seed: 14)
        }
        let (dx, dw) = Layers.depthwiseBackward(
            x, dy, batch: batch, side: side, channels: channels, weights: w, kernel: kernel, stride: stride)
        Self.check(dx, at: x, { forward($0, w) }, "dx k\(kernel) s\(stride)")
        Self.check(dw, at: w, { forward(x, $0) }, "dw k\(kernel) s\(stride)")
    }

    /// The float32 C kernels that training uses agree with the float64 loops checked above.
    @Test(arguments: [(3, 1), (5, 2)])
    func floatDepthwiseKernelsMatchTheReference(kernel: Int, stride: Int) {
        let (batch, side, channels) = (2, 7, 37)
        let x = Self.values(batch * side * side * channels, seed: 21)
        let w = Self.values(channels * kernel * kernel, seed: 22)
        let out = (side + stride - 1) / stride
        let dy = Self.values(batch * out * out * channels, seed: 23)
        let reference = Layers.depthwise(
            x, batch: batch, side: side, channels: channels, weights: w, kernel: kernel, stride: stride
        ).y
        let single = Layers.depthwise(
            x.map(Float.init), batch: batch, side: side, channels: channels, weights: w.map(Float.init),
            kernel: kernel, stride: stride
        ).y
        #expect(zip(reference, single).allSatisfy { abs($0 - Double($1)) < 1e-4 })
        let (dx, dw) = Layers.depthwiseBackward(
            x, dy, batch: batch, side: side, channels: channels, weights: w, kernel: kernel, stride: stride)
        let (dxSingle, dwSingle) = Layers.depthwiseBackward(
            x.map(Float.init), dy.map(Float.init), batch: batch, side: side, channels: channels,
            weights: w.map(Float.init), kernel: kernel, stride: stride)
        #expect(zip(dx, dxSingle).allSatisfy { abs($0 - Double($1)) < 1e-4 })
        #expect(zip(dw, dwSingle).allSatisfy { abs($0 - Double($1)) < 1e-3 })
    }

    @Test func stemConvolutionThroughIm2col() {
        let (batch, side) = (1, 7)
        let x = Self.values(batch * side * side * 3, seed: 15)
        let w = Self.values(4 * 27, seed: 16)
        func forward(_ x: [Double], _ w: [Double]) -> [Double] {
            let (rows, out) = Layers.im2col(x, batch: batch, side: side, channels: 3, kernel: 3, stride: 2)
            return Layers.pointwise(rows, rows: batch * out * out, weights: w, inputs: 27, outputs: 4)
        }
        let (rows, out) = Layers.im2col(x, batch: batch, side: side, channels: 3, kernel: 3, stride: 2)
        let dy = Self.values(batch * out * out * 4, seed: 17)
        let (drows, dw) = Layers.pointwiseBackward(rows, dy, rows: batch * out * out, weights: w, inputs: 27, outputs: 4)
        let dx = Layers.col2im(drows, batch: batch, side: side, channels: 3, kernel: 3, stride: 2)
        Self.check(dx, at: x, { Self.projection(forward($0, w), seed: 17) }, "dx")
        Self.check(dw, at: w, { Self.projection(forward(x, $0), seed: 17) }, "dw")
    }

    @Test func averagePoolAndClassifierAndLoss() {
        let (batch, pixels, channels, classes) = (3, 4, 5, 3)
        let x = Self.values(batch * pixels * channels, seed: 18)
        let w = Self.values(classes * channels, seed: 19)
        let b = Self.values(classes, seed: 20)
        let labels = [0, 2, 1]
        func loss(_ x: [Double], _ w: [Double], _ b: [Double]) -> Double {
            let pooled = Layers.averagePool(x, batch: batch, pixels: pixels, channels: channels)
            let logits = Layers.linear(pooled, batch: batch, weights: w, bias: b, features: channels)
            return Layers.crossEntropy(logits, labels: labels, classes: classes, smoothing: 0.1, classWeights: [1, 2, 0.5]).loss
        }
        let pooled = Layers.averagePool(x, batch: batch, pixels: pixels, channels: channels)
        let logits = Layers.linear(pooled, batch: batch, weights: w, bias: b, features: channels)
        let dlogits = Layers.crossEntropy(logits, labels: labels, classes: classes, smoothing: 0.1, classWeights: [1, 2, 0.5])
            .dlogits
        let (dpooled, dw) = Layers.pointwiseBackward(pooled, dlogits, rows: batch, weights: w, inputs: channels, outputs: classes)
        let db = (0..<classes).map { c in (0..<batch).reduce(0.0) { $0 + dlogits[$1 * classes + c] } }
        let dx = Layers.averagePoolBackward(dpooled, batch: batch, pixels: pixels, channels: channels)
        Self.check(dx, at: x, { loss($0, w, b) }, "dx")
        Self.check(dw, at: w, { loss(x, $0, b) }, "dw")
        Self.check(db, at: b, { loss(x, w, $0) }, "db")
    }

    /// A small network with the real block types: stem, a stride-2 k5 expanding block, a
    /// residual k3 block, head convolution, classifier.
    static func smallTail(firstBlock: Int) throws -> (TrainableTail<Double>, input: [Double], side: Int) {
        let blocks = [
            EfficientNetLite.Block(index: 0, kernel: 5, stride: 2, expandRatio: 2, inputChannels: 4, outputChannels: 3),
            EfficientNetLite.Block(index: 1, kernel: 3, stride: 1, expandRatio: 2, inputChannels: 3, outputChannels: 3),
            EfficientNetLite.Block(index: 2, kernel: 3, stride: 1, expandRatio: 1, inputChannels: 3, outputChannels: 3),
        ]
        let architecture = TrainableTail<Double>.Architecture(
            blocks: blocks, stemChannels: 4, embedding: 6, classes: 3, firstBlock: firstBlock)
        let (trainable, statistics) = architecture.shapes
        var tensors: [String: [Double]] = [:]
        for (seed, (name, shape)) in (trainable.merging(statistics) { $1 }).sorted(by: { $0.key < $1.key }).enumerated() {
            let count = shape.reduce(1, *)
            tensors[name] =
                name.hasSuffix("running_var")
                ? values(count, seed: UInt64(100 + seed), range: 0.5...1.5)
                : name.hasSuffix(".bias") && !name.hasPrefix("_fc")
                    ? values(count, seed: UInt64(100 + seed), range: 0.5...1.5)
                    : values(count, seed: UInt64(100 + seed), range: -0.8...0.8)
        }
        let tail = try TrainableTail(architecture: architecture, tensors: tensors)
        let side = firstBlock == 0 ? 10 : 5
        return (tail, values(2 * side * side * architecture.inputChannels, seed: 50, range: -2...2), side)
    }

    @Test(arguments: [0, 1, 2, 3])
    func wholeTailFromBlock(firstBlock: Int) throws {
        let (tail, input, side) = try Self.smallTail(firstBlock: firstBlock)
        let labels = [1, 2]
        func loss(_ tail: TrainableTail<Double>) -> Double {
            let trace = tail.forward(input, batch: 2, side: side)
            return Layers.crossEntropy(trace.logits, labels: labels, classes: 3, smoothing: 0.1).loss
        }
        let trace = tail.forward(input, batch: 2, side: side)
        let dlogits = Layers.crossEntropy(trace.logits, labels: labels, classes: 3, smoothing: 0.1).dlogits
        let gradients = tail.backward(trace, dlogits: dlogits)
        #expect(Set(gradients.keys) == Set(tail.parameters.keys))
        for (name, values) in tail.parameters.sorted(by: { $0.key < $1.key }) {
            Self.check(
                gradients[name] ?? [], at: values,
                { changed in
                    var copy = tail
                    copy.parameters[name] = changed
                    return loss(copy)
                }, tolerance: 1e-5, "block \(firstBlock): \(name)")
        }
    }
}
