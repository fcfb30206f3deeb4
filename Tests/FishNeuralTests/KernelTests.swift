import FishNeural
import FishTestSupport
import Foundation
import Testing

@Suite struct KernelTests {
    @Test func samePaddingIsAsymmetricForStrideTwo() {
        #expect(Kernels.samePadding(size: 224, kernel: 3, stride: 2) == (112, 0))
        #expect(Kernels.samePadding(size: 112, kernel: 5, stride: 2) == (56, 1))
        #expect(Kernels.samePadding(size: 7, kernel: 5, stride: 1) == (7, 2))
        #expect(Kernels.samePadding(size: 15, kernel: 3, stride: 2) == (8, 1))
    }

    /// A direct, unvectorised depthwise convolution with TF SAME padding, bias and ReLU6.
    func naiveDepthwise(
        _ input: [Float], height: Int, width: Int, channels: Int, weights: [Float],
        bias: [Float], kernel: Int, stride: Int
    ) -> [Float] {
        let (outHeight, top) = Kernels.samePadding(size: height, kernel: kernel, stride: stride)
        let (outWidth, left) = Kernels.samePadding(size: width, kernel: kernel, stride: stride)
        var output = [Float](repeating: 0, count: outHeight * outWidth * channels)
        for oy in 0..<outHeight {
            for ox in 0..<outWidth {
                for c in 0..<channels {
                    var sum = Double(bias[c])
                    for ky in 0..<kernel {
                        for kx in 0..<kernel {
                            let iy = oy * stride + ky - top
                            let ix = ox * stride + kx - left
                            guard iy >= 0, iy < height, ix >= 0, ix < width else { continue }
                            sum +=
                                Double(input[(iy * width + ix) * channels + c])
                                * Double(weights[(ky * kernel + kx) * channels + c])
                        }
                    }
                    output[(oy * outWidth + ox) * channels + c] = Float(min(max(sum, 0), 6))
                }
            }
        }
        return output
    }

    /// Every kernel and stride the network uses plus a generic one, widths that leave strips of
    /// every length and edge strips on both sides, whole 16-channel blocks plus a scalar tail, a
    /// tiny input (split by channels between the two threads), small ones (bands of channel
    /// blocks, split by rows) and a large one (streamed), on every instruction-set build this CPU
    /// runs, on two threads of a team (rows or channels in chunks the threads share out), against
    /// a float64 computation.
    @Test(arguments: [(3, 1), (3, 2), (5, 1), (5, 2), (7, 1)])
    func depthwiseMatchesDirectComputation(kernel: Int, stride: Int) {
        var generator = SystemRandomNumberGenerator()
        let team = ThreadTeam(size: 2)
        for (height, width, channels) in [(5, 5, 85), (9, 11, 53), (7, 23, 32), (40, 37, 200)] {
            let input = (0..<(height * width * channels)).map { _ in Float.random(in: -2...2, using: &generator) }
            let weights = (0..<(kernel * kernel * channels)).map { _ in Float.random(in: -1...1, using: &generator) }
            let bias = (0..<channels).map { _ in Float.random(in: -1...1, using: &generator) }
            let expected = naiveDepthwise(
                input, height: height, width: width, channels: channels, weights: weights,
                bias: bias, kernel: kernel, stride: stride)
            for instructionSet in InstructionSet.allCases where instructionSet.isSupported {
                var output = [Float](repeating: .nan, count: expected.count)
                input.withUnsafeBufferPointer { i in
                    weights.withUnsafeBufferPointer { w in
                        bias.withUnsafeBufferPointer { b in
                            output.withUnsafeMutableBufferPointer { o in
                                Kernels.depthwise(
                                    i.baseAddress!, batch: 1, height: height, width: width, channels: channels,
                                    weights: w.baseAddress!, bias: b.baseAddress!, kernel: kernel, stride: stride,
                                    output: o.baseAddress!, threads: 2, team: team, instructionSet: instructionSet)
                            }
                        }
                    }
                }
                let worst = largestDifference(zip(output, expected))
                #expect(worst < 1e-5, "\(height)x\(width)x\(channels), \(instructionSet)")
            }
        }
    }

    /// The stem kernel on even and odd, square and oblong images (TF SAME padding after only, or
    /// on both sides), whole and partial output panels, its rows in two calls, on every
    /// instruction-set build this CPU runs, against a float64 convolution.
    @Test(arguments: [
        (height: 224, width: 224, outChannels: 32), (height: 15, width: 9, outChannels: 20),
        (height: 8, width: 13, outChannels: 48),
    ])
    func stemMatchesDirectComputation(height: Int, width: Int, outChannels: Int) {
        var generator = SystemRandomNumberGenerator()
        let image = (0..<(height * width * 3)).map { _ in Float.random(in: -2...2, using: &generator) }
        let weights = (0..<(outChannels * 27)).map { _ in Float.random(in: -0.5...0.5, using: &generator) }
        let bias = (0..<outChannels).map { _ in Float.random(in: -1...1, using: &generator) }
        let (outHeight, top) = Kernels.samePadding(size: height, kernel: 3, stride: 2)
        let (outWidth, left) = Kernels.samePadding(size: width, kernel: 3, stride: 2)
        var expected = [Float](repeating: 0, count: outHeight * outWidth * outChannels)
        for oy in 0..<outHeight {
            for ox in 0..<outWidth {
                for o in 0..<outChannels {
                    var sum = Double(bias[o])
                    for ky in 0..<3 {
                        for kx in 0..<3 {
                            let iy = oy * 2 + ky - top
                            let ix = ox * 2 + kx - left
                            guard iy >= 0, iy < height, ix >= 0, ix < width else { continue }
                            for c in 0..<3 {
                                sum += Double(image[(iy * width + ix) * 3 + c]) * Double(weights[o * 27 + (ky * 3 + kx) * 3 + c])
                            }
                        }
                    }
                    expected[(oy * outWidth + ox) * outChannels + o] = Float(min(max(sum, 0), 6))
                }
            }
        }
        let stem = PackedPointwise(weights: weights, bias: bias, inChannels: 27)
        let scratchFloats = PackedPointwise.stemScratchFloats(width: width)
        for instructionSet in InstructionSet.allCases where instructionSet.isSupported {
            var output = [Float](repeating: .nan, count: expected.count)
            var scratch = [Float](repeating: .nan, count: 2 * scratchFloats)
            image.withUnsafeBufferPointer { i in
                output.withUnsafeMutableBufferPointer { o in
                    scratch.withUnsafeMutableBufferPointer { s in
                        for (part, rows) in [0..<(outHeight / 2), (outHeight / 2)..<outHeight].enumerated() {
                            stem.applyStem(
                                i.baseAddress!, height: height, width: width, rows: rows,
                                scratch: s.baseAddress! + part * scratchFloats, output: o.baseAddress!,
                                instructionSet: instructionSet)
                        }
                    }
                }
            }
            let worst = largestDifference(zip(output, expected))
            #expect(worst < 1e-5, "\(height)x\(width) to \(outChannels), \(instructionSet)")
        }
    }

    @Test func pointwiseIsAMatrixProduct() {
        // input [2 pixels, 3 channels] x weights [2 outputs, 3 inputs]^T + bias
        let layer = PackedPointwise(weights: [1, 0, -1, 0.5, 0.5, 0.5], bias: [0, 1], inChannels: 3)
        let input: [Float] = [1, 2, 3, 4, 5, 6]
        var output = [Float](repeating: .nan, count: 4)
        input.withUnsafeBufferPointer { i in
            output.withUnsafeMutableBufferPointer { o in
                layer.apply(i.baseAddress!, rows: 2, output: o.baseAddress!, relu6: false, threads: 1)
            }
        }
        #expect(output == [-2, 4, -2, 8.5])
    }

    /// Shapes that leave partial row tiles and partial panels, that split rows or panels between
    /// two threads of a team (in halves, or in chunks of 8 or 64 rows the threads share out), on
    /// every instruction-set build this CPU runs, against a float64 product.
    @Test(arguments: [
        (rows: 1, inChannels: 1280, outChannels: 1000), (rows: 13, inChannels: 27, outChannels: 24),
        (rows: 49, inChannels: 192, outChannels: 1152), (rows: 300, inChannels: 16, outChannels: 40),
        (rows: 9, inChannels: 5, outChannels: 7), (rows: 1100, inChannels: 24, outChannels: 40),
    ])
    func pointwiseMatchesDirectComputation(rows: Int, inChannels: Int, outChannels: Int) {
        var generator = SystemRandomNumberGenerator()
        let input = (0..<(rows * inChannels)).map { _ in Float.random(in: -2...2, using: &generator) }
        let weights = (0..<(outChannels * inChannels)).map { _ in Float.random(in: -0.2...0.2, using: &generator) }
        let bias = (0..<outChannels).map { _ in Float.random(in: -1...1, using: &generator) }
        let residual = (0..<(rows * outChannels)).map { _ in Float.random(in: -3...3, using: &generator) }
        let layer = PackedPointwise(weights: weights, bias: bias, inChannels: inChannels)
        let team = ThreadTeam(size: 2)
        for instructionSet in InstructionSet.allCases where instructionSet.isSupported {
            for (relu6, withResidual, threads) in [(true, false, 1), (false, true, 2), (true, true, 2)] {
                var output = [Float](repeating: .nan, count: rows * outChannels)
                input.withUnsafeBufferPointer { i in
                    residual.withUnsafeBufferPointer { r in
                        output.withUnsafeMutableBufferPointer { o in
                            layer.apply(
                                i.baseAddress!, rows: rows, output: o.baseAddress!, relu6: relu6,
                                residual: withResidual ? r.baseAddress! : nil, threads: threads, team: team,
                                instructionSet: instructionSet)
                        }
                    }
                }
                var worst = 0.0
                for m in 0..<rows {
                    for n in 0..<outChannels {
                        var sum = Double(bias[n]) + (withResidual ? Double(residual[m * outChannels + n]) : 0)
                        for k in 0..<inChannels {
                            sum += Double(input[m * inChannels + k]) * Double(weights[n * inChannels + k])
                        }
                        if relu6 { sum = min(max(sum, 0), 6) }
                        worst = max(worst, largestDifference(CollectionOfOne((sum, Double(output[m * outChannels + n])))))
                    }
                }
                #expect(worst < 1e-4, "\(instructionSet), relu6 \(relu6), residual \(withResidual), \(threads) threads")
            }
        }
    }
}

/// Choosing a kernel build by name, as `FISHOPS_KERNELS` does.
@Suite struct InstructionSetChoiceTests {
    @Test func namesChooseTheBuildsThisCPURunsAndSayWhyNot() {
        for set in InstructionSet.allCases {
            switch InstructionSet.choice(named: set.name.uppercased()) {
            case let .success(chosen):
                #expect(chosen == set && set.isSupported)
            case let .failure(problem):
                #expect(!set.isSupported)
                #expect(problem.description.contains("cannot run") && problem.description.contains("baseline"))
            }
        }
        guard case let .failure(problem) = InstructionSet.choice(named: "sse9") else {
            Issue.record("an unknown name was accepted")
            return
        }
        #expect(problem.description == "is not one of baseline, avx2, avx512")
        #expect(InstructionSet.best.isSupported && InstructionSet.baseline.isSupported)
        #expect(InstructionSet.engine == InstructionSet.best || ProcessInfo.processInfo.environment["FISHOPS_KERNELS"] != nil)
    }
}
