import CBLAS
import Synchronization

/// The EfficientNet-Lite0 forward pass in float32 on OpenBLAS, with batch norm folded into the
/// convolutions. Safe to call from several threads: each call takes its own workspace.
public final class InferenceEngine: Sendable {
    /// What one forward pass returns, image-major.
    public struct Output: Sendable {
        /// `batch * classes` raw scores.
        public let logits: [Float]
        /// `batch * 1280` pooled head activations.
        public let embeddings: [Float]
    }

    /// A convolution with batch norm folded in: weights laid out for its kernel, one bias per output.
    struct FoldedConv: Sendable {
        let weights: [Float]
        let bias: [Float]
    }

    struct FoldedBlock: Sendable {
        let spec: EfficientNetLite0.Block
        let expand: FoldedConv?
        let depthwise: FoldedConv
        let project: FoldedConv
    }

    public let classes: Int
    public let threads: Int
    private let stem: FoldedConv
    private let blocks: [FoldedBlock]
    private let head: FoldedConv
    private let classifier: FoldedConv
    private let workspaces = Mutex<[Workspace]>([])

    /// Builds the engine from validated checkpoint tensors; `threads` bounds the engine's own
    /// parallelism and OpenBLAS's.
    public init(tensors: [String: HostTensor], threads: Int) throws(NeuralError) {
        let (weights, classes) = try EfficientNetLite0.validate(tensors)
        func values(_ name: String) throws(NeuralError) -> [Float] {
            guard let tensor = weights[name] else { throw .missingTensor(name: name) }
            return try tensor.floats(name: name)
        }
        func batchNorm(_ prefix: String) throws(NeuralError) -> (scale: [Float], shift: [Float]) {
            let gamma = try values(prefix + ".weight"), beta = try values(prefix + ".bias")
            let mean = try values(prefix + ".running_mean"), variance = try values(prefix + ".running_var")
            let scale = zip(gamma, variance).map { $0 / (($1 + EfficientNetLite0.batchNormEpsilon).squareRoot()) }
            let shift = (0..<scale.count).map { beta[$0] - mean[$0] * scale[$0] }
            return (scale, shift)
        }
        /// Folds BN into a [out, in, k, k] convolution, reordering each filter to (ky, kx, in).
        func fold(_ convolution: String, _ norm: String, kernelArea: Int = 1) throws(NeuralError) -> FoldedConv {
            let raw = try values(convolution + ".weight")
            let (scale, shift) = try batchNorm(norm)
            let outputs = scale.count, perOutput = raw.count / outputs, inputs = perOutput / kernelArea
            var folded = [Float](repeating: 0, count: raw.count)
            for o in 0..<outputs {
                for i in 0..<inputs {
                    for tap in 0..<kernelArea {
                        folded[o * perOutput + tap * inputs + i] = raw[o * perOutput + i * kernelArea + tap] * scale[o]
                    }
                }
            }
            return FoldedConv(weights: folded, bias: shift)
        }
        /// Folds BN into a depthwise [C, 1, k, k] convolution, stored tap-major.
        func foldDepthwise(_ block: EfficientNetLite0.Block) throws(NeuralError) -> FoldedConv {
            let raw = try values(block.prefix + "_depthwise_conv.weight")
            let (scale, shift) = try batchNorm(block.prefix + "_bn1")
            let channels = block.expandedChannels, taps = block.kernel * block.kernel
            var folded = [Float](repeating: 0, count: raw.count)
            for c in 0..<channels {
                for tap in 0..<taps { folded[tap * channels + c] = raw[c * taps + tap] * scale[c] }
            }
            return FoldedConv(weights: folded, bias: shift)
        }

        self.classes = classes
        self.threads = max(threads, 1)
        stem = try fold("_conv_stem", "_bn0", kernelArea: 9)
        var folded: [FoldedBlock] = []
        for block in EfficientNetLite0.blocks {
            let p = block.prefix
            folded.append(FoldedBlock(
                spec: block,
                expand: block.hasExpansion ? try fold(p + "_expand_conv", p + "_bn0") : nil,
                depthwise: try foldDepthwise(block),
                project: try fold(p + "_project_conv", p + "_bn2")))
        }
        blocks = folded
        head = try fold("_conv_head", "_bn1")
        classifier = FoldedConv(weights: try values("_fc.weight"), bias: try values("_fc.bias"))
        try BLAS.load()
        fish_blas_set_threads(Int32(self.threads))
    }

    /// Runs `batch` images of `size` x `size` pixels, NHWC (`batch * size * size * 3` floats).
    ///
    /// A batch of several images is split into one part per thread, each run with single-threaded
    /// OpenBLAS: on few cores that beats sharing every layer between threads, whose OpenBLAS
    /// workers spin while the engine's own loops run. A single image uses all threads per layer.
    public func forward(_ input: UnsafeBufferPointer<Float>, batch: Int, size: Int = 224) -> Output {
        precondition(batch > 0 && input.count == batch * size * size * 3, "input does not match batch and size")
        var logits = [Float](repeating: 0, count: batch * classes)
        var embeddings = [Float](repeating: 0, count: batch * EfficientNetLite0.embeddingSize)
        guard let source = input.baseAddress else { return Output(logits: logits, embeddings: embeddings) }
        let parts = min(threads, batch)
        fish_blas_set_threads(Int32(parts > 1 ? 1 : threads))
        logits.withUnsafeMutableBufferPointer { scores in
            embeddings.withUnsafeMutableBufferPointer { pooled in
                let scoresBase = scores.baseAddress!, pooledBase = pooled.baseAddress!
                Parallel.forEach(parts, threads: parts) { part in
                    let first = batch * part / parts, count = batch * (part + 1) / parts - first
                    run(source + first * size * size * 3, batch: count, size: size, threads: parts > 1 ? 1 : threads,
                        logits: scoresBase + first * classes,
                        embeddings: pooledBase + first * EfficientNetLite0.embeddingSize)
                }
            }
        }
        return Output(logits: logits, embeddings: embeddings)
    }

    /// The forward pass of `batch` images on `threads` threads, writing logits and embeddings.
    private func run(_ source: UnsafePointer<Float>, batch: Int, size: Int, threads: Int,
                     logits: UnsafeMutablePointer<Float>, embeddings: UnsafeMutablePointer<Float>) {
        let workspace = takeWorkspace(floats: batch * Self.largestActivation(size: size))
        defer { returnWorkspace(workspace) }
        var current = workspace.buffers[0], spare = workspace.buffers[1]
        let depthwiseOut = workspace.buffers[2]

        // Stem: 3x3 stride-2 convolution as im2col + sgemm.
        var side = Kernels.samePadding(size: size, kernel: 3, stride: 2).output
        Kernels.im2col(source, batch: batch, height: size, width: size, channels: 3, kernel: 3, stride: 2,
                       output: spare, threads: threads)
        convolve(spare, rows: batch * side * side, inChannels: 27, stem, output: current, relu6: true, threads: threads)

        for block in blocks {
            let spec = block.spec
            var depthwiseIn = current
            if let expand = block.expand {
                convolve(current, rows: batch * side * side, inChannels: spec.inputChannels, expand, output: spare,
                         relu6: true, threads: threads)
                depthwiseIn = spare
            }
            block.depthwise.weights.withUnsafeBufferPointer { weights in
                block.depthwise.bias.withUnsafeBufferPointer { bias in
                    Kernels.depthwise(depthwiseIn, batch: batch, height: side, width: side, channels: spec.expandedChannels,
                                      weights: weights.baseAddress!, bias: bias.baseAddress!, kernel: spec.kernel,
                                      stride: spec.stride, output: depthwiseOut, threads: threads)
                }
            }
            side = Kernels.samePadding(size: side, kernel: spec.kernel, stride: spec.stride).output
            convolve(depthwiseOut, rows: batch * side * side, inChannels: spec.expandedChannels, block.project,
                     output: spare, relu6: false, residual: spec.hasResidual ? UnsafePointer(current) : nil,
                     threads: threads)
            swap(&current, &spare)
        }

        let pixels = side * side
        convolve(current, rows: batch * pixels, inChannels: EfficientNetLite0.headChannels, head, output: spare,
                 relu6: true, threads: threads)
        Kernels.globalAveragePool(spare, batch: batch, pixels: pixels, channels: EfficientNetLite0.embeddingSize,
                                  output: embeddings)
        convolve(embeddings, rows: batch, inChannels: EfficientNetLite0.embeddingSize, classifier, output: logits,
                 relu6: false, threads: threads)
    }

    /// A 1x1 convolution (or linear layer): sgemm, then bias with ReLU6 or a residual in one pass.
    private func convolve(_ input: UnsafePointer<Float>, rows: Int, inChannels: Int, _ layer: FoldedConv,
                          output: UnsafeMutablePointer<Float>, relu6: Bool, residual: UnsafePointer<Float>? = nil,
                          threads: Int) {
        let outChannels = layer.bias.count
        layer.weights.withUnsafeBufferPointer { weights in
            Kernels.pointwise(input, rows: rows, inChannels: inChannels, weights: weights.baseAddress!,
                              outChannels: outChannels, output: output)
        }
        layer.bias.withUnsafeBufferPointer { bias in
            Kernels.addBias(output, rows: rows, channels: outChannels, bias: bias.baseAddress!, relu6: relu6,
                            residual: residual, threads: threads)
        }
    }

    private func convolve(_ input: UnsafeMutablePointer<Float>, rows: Int, inChannels: Int, _ layer: FoldedConv,
                          output: UnsafeMutablePointer<Float>, relu6: Bool, residual: UnsafePointer<Float>? = nil,
                          threads: Int) {
        convolve(UnsafePointer(input), rows: rows, inChannels: inChannels, layer, output: output, relu6: relu6,
                 residual: residual, threads: threads)
    }

    /// The most floats one image needs in any buffer (activations and the stem's patches).
    static func largestActivation(size: Int) -> Int {
        var side = Kernels.samePadding(size: size, kernel: 3, stride: 2).output
        var largest = side * side * max(27, EfficientNetLite0.stemChannels)
        for block in EfficientNetLite0.blocks {
            largest = max(largest, side * side * block.expandedChannels)
            side = Kernels.samePadding(size: side, kernel: block.kernel, stride: block.stride).output
        }
        return max(largest, side * side * EfficientNetLite0.embeddingSize)
    }

    private func takeWorkspace(floats: Int) -> Workspace {
        let reusable = workspaces.withLock { pool -> Workspace? in
            guard let index = pool.firstIndex(where: { $0.capacity >= floats }) else { return nil }
            return pool.remove(at: index)
        }
        return reusable ?? Workspace(capacity: floats)
    }

    private func returnWorkspace(_ workspace: Workspace) {
        workspaces.withLock { pool in
            pool.append(workspace)
            if pool.count > 2 * threads { pool.removeFirst() }
        }
    }
}

/// Three activation buffers reused across forward passes.
final class Workspace: @unchecked Sendable {
    let capacity: Int
    let buffers: [UnsafeMutablePointer<Float>]

    init(capacity: Int) {
        self.capacity = capacity
        buffers = (0..<3).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: capacity) }
    }

    deinit { buffers.forEach { $0.deallocate() } }
}
