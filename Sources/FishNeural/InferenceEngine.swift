import Synchronization

/// The EfficientNet-Lite forward pass in float32, with batch norm folded into the convolutions and
/// the 1x1 convolutions on FishOps' own vector kernels (`PackedPointwise`). Safe to call from
/// several threads: each call takes its own workspace.
public final class InferenceEngine: Sendable {
    /// What one forward pass returns, image-major.
    public struct Output: Sendable {
        /// `batch * classes` raw scores.
        public let logits: [Float]
        /// `batch * 1280` pooled head activations.
        public let embeddings: [Float]

        public init(logits: [Float], embeddings: [Float]) {
            self.logits = logits
            self.embeddings = embeddings
        }
    }

    /// A depthwise convolution with batch norm folded in: tap-major weights, one bias per channel,
    /// each on a 64-byte boundary.
    final class DepthwiseConv: Sendable {
        nonisolated(unsafe) let weights: UnsafeMutablePointer<Float>
        nonisolated(unsafe) let bias: UnsafeMutablePointer<Float>

        init(weights: [Float], bias: [Float]) {
            self.weights = allocateAlignedFloats(weights.count)
            self.weights.initialize(from: weights, count: weights.count)
            self.bias = allocateAlignedFloats(bias.count)
            self.bias.initialize(from: bias, count: bias.count)
        }

        deinit {
            weights.deallocate()
            bias.deallocate()
        }
    }

    struct FoldedBlock: Sendable {
        let spec: EfficientNetLite.Block
        let expand: PackedPointwise?
        let depthwise: DepthwiseConv
        let project: PackedPointwise
    }

    public let classes: Int
    public let threads: Int
    /// The family member the weights are of.
    public let architecture: EfficientNetLite
    /// Width of the pooled embedding (1280 for every EfficientNet-Lite).
    public var embeddingWidth: Int { head.outChannels }
    private let stem: PackedPointwise
    private let blocks: [FoldedBlock]
    private let head: PackedPointwise
    private let classifier: PackedPointwise
    private let workspaces = Mutex<[Workspace]>([])

    /// Builds the engine from validated checkpoint tensors; `threads` bounds its parallelism.
    public convenience init(tensors: [String: HostTensor], threads: Int) throws(NeuralError) {
        self.init(network: try FoldedNetwork(tensors: tensors), threads: threads)
    }

    /// Builds the engine from a folded network, laying its weights out for the NHWC kernels.
    public init(network: FoldedNetwork, threads: Int) {
        /// A [out, in, k, k] filter bank reordered to (ky, kx, in) per output, as the stem kernel reads patches.
        func patchMajor(_ convolution: FoldedNetwork.Convolution) -> PackedPointwise {
            let outputs = convolution.bias.count
            let perOutput = convolution.weights.count / outputs
            let kernelArea = convolution.shape.count == 4 ? convolution.shape[2] * convolution.shape[3] : 1
            let inputs = perOutput / kernelArea
            var weights = [Float](repeating: 0, count: convolution.weights.count)
            for o in 0..<outputs {
                for i in 0..<inputs {
                    for tap in 0..<kernelArea {
                        weights[o * perOutput + tap * inputs + i] = convolution.weights[o * perOutput + i * kernelArea + tap]
                    }
                }
            }
            return PackedPointwise(weights: weights, bias: convolution.bias, inChannels: perOutput)
        }
        /// A depthwise [C, 1, k, k] filter bank stored tap-major: `[(ky * k + kx) * C + c]`.
        func tapMajor(_ convolution: FoldedNetwork.Convolution) -> DepthwiseConv {
            let channels = convolution.bias.count
            let taps = convolution.weights.count / channels
            var weights = [Float](repeating: 0, count: convolution.weights.count)
            for c in 0..<channels {
                for tap in 0..<taps { weights[tap * channels + c] = convolution.weights[c * taps + tap] }
            }
            return DepthwiseConv(weights: weights, bias: convolution.bias)
        }
        func packed(_ convolution: FoldedNetwork.Convolution) -> PackedPointwise {
            PackedPointwise(
                weights: convolution.weights, bias: convolution.bias,
                inChannels: convolution.weights.count / convolution.bias.count)
        }

        classes = network.classes
        architecture = network.architecture
        self.threads = max(threads, 1)
        stem = patchMajor(network.stem)
        blocks = network.blocks.map { block in
            FoldedBlock(
                spec: block.spec, expand: block.expand.map { packed($0) }, depthwise: tapMajor(block.depthwise),
                project: packed(block.project))
        }
        head = packed(network.head)
        classifier = packed(network.classifier)
    }

    /// Runs `batch` images of `size` x `size` pixels (default: the architecture's input size), NHWC
    /// (`batch * size * size * 3` floats).
    ///
    /// A batch of several images is split into one part per thread (no synchronisation between
    /// layers), each thread running its images in groups (see `imagesPerGroup`); a single image
    /// shares each layer's rows between the threads. `threads` (at most the engine's own count, the
    /// default) lets a caller that runs several passes at once give each fewer.
    public func forward(_ input: UnsafeBufferPointer<Float>, batch: Int, size: Int? = nil, threads: Int? = nil) -> Output {
        let size = size ?? architecture.inputSize
        precondition(batch > 0 && input.count == batch * size * size * 3, "input does not match batch and size")
        let threads = min(max(threads ?? self.threads, 1), self.threads)
        var logits = [Float](repeating: 0, count: batch * classes)
        var embeddings = [Float](repeating: 0, count: batch * EfficientNetLite.embeddingSize)
        guard let source = input.baseAddress else { return Output(logits: logits, embeddings: embeddings) }
        let parts = min(threads, batch)
        embeddings.withUnsafeMutableBufferPointer { pooled in
            let pooledBase = pooled.baseAddress!
            Parallel.forEach(parts, threads: parts) { part in
                let images = (batch * part / parts)..<(batch * (part + 1) / parts)
                for first in stride(from: images.lowerBound, to: images.upperBound, by: Self.imagesPerGroup) {
                    embed(
                        source + first * size * size * 3, count: min(Self.imagesPerGroup, images.upperBound - first),
                        size: size, threads: parts > 1 ? 1 : threads,
                        embeddings: pooledBase + first * EfficientNetLite.embeddingSize)
                }
            }
            // The whole batch at once, so the classifier's weights are read once per batch.
            logits.withUnsafeMutableBufferPointer { scores in
                classifier.apply(pooledBase, rows: batch, output: scores.baseAddress!, relu6: false, threads: threads)
            }
        }
        return Output(logits: logits, embeddings: embeddings)
    }

    /// The activations entering block `block` (NHWC, `batch * side * side * channels`) of
    /// `batch` images: the frozen part of the network when fine-tuning from that block.
    public func activations(
        _ input: UnsafeBufferPointer<Float>, batch: Int, size: Int? = nil, beforeBlock block: Int,
        threads: Int? = nil
    ) -> (values: [Float], side: Int) {
        let size = size ?? architecture.inputSize
        precondition(batch > 0 && input.count == batch * size * size * 3, "input does not match batch and size")
        precondition((0...blocks.count).contains(block), "no block \(block)")
        let (side, channels) = architecture.shape(size: size, beforeBlock: block)
        let perImage = side * side * channels
        var values = [Float](repeating: 0, count: batch * perImage)
        guard let source = input.baseAddress else { return (values, side) }
        let threads = min(max(threads ?? self.threads, 1), self.threads)
        let parts = min(threads, batch)
        values.withUnsafeMutableBufferPointer { output in
            let base = output.baseAddress!
            Parallel.forEach(parts, threads: parts) { part in
                for image in (batch * part / parts)..<(batch * (part + 1) / parts) {
                    let workspace = takeWorkspace(floats: largestActivation(size: size))
                    let (result, _) = trunk(
                        source + image * size * size * 3, size: size, blocks: block,
                        threads: parts > 1 ? 1 : threads, workspace: workspace)
                    (base + image * perImage).update(from: result, count: perImage)
                    returnWorkspace(workspace)
                }
            }
        }
        return (values, side)
    }

    /// Images run together through the blocks from `groupedFromBlock` on: their 1x1 layers hold
    /// most of the weights (17 of 19 MB in Lite0), which a group reads once instead of once per
    /// image, while the early, large activations still go one image at a time.
    static let imagesPerGroup = 4
    /// The first block at 1/16 of the input side (14x14 for Lite0 at 224), where a group's
    /// activations are small.
    var groupedFromBlock: Int { architecture.firstBlockAtOneSixteenth }

    /// The pooled head activations of `count` consecutive images, on `threads` threads: each image
    /// alone up to `groupedFromBlock`, then all of them as one batch.
    private func embed(
        _ source: UnsafePointer<Float>, count: Int, size: Int, threads: Int,
        embeddings: UnsafeMutablePointer<Float>
    ) {
        let split = count > 1 ? groupedFromBlock : blocks.count
        let (splitSide, splitChannels) = architecture.shape(size: size, beforeBlock: split)
        let perImage = splitSide * splitSide * splitChannels
        let workspace = takeWorkspace(
            floats: max(
                largestActivation(size: size),
                count * largestActivation(size: size, fromBlock: split)))
        defer { returnWorkspace(workspace) }
        var current = workspace.buffers[0]
        var side = splitSide
        if count == 1 {
            (current, side) = trunk(source, size: size, blocks: split, threads: threads, workspace: workspace)
        } else {
            let gathered = workspace.gather(floats: count * perImage)
            for image in 0..<count {
                let (result, _) = trunk(
                    source + image * size * size * 3, size: size, blocks: split, threads: threads,
                    workspace: workspace)
                (gathered + image * perImage).update(from: result, count: perImage)
            }
            current.update(from: gathered, count: count * perImage)
        }
        (current, side) = run(
            blocks: split..<blocks.count, batch: count, side: side, from: current, threads: threads,
            workspace: workspace)
        let spare = workspace.buffers[current == workspace.buffers[0] ? 1 : 0]
        let pixels = side * side
        head.apply(current, rows: count * pixels, output: spare, relu6: true, threads: threads, team: workspace.team(threads))
        Kernels.globalAveragePool(
            spare, batch: count, pixels: pixels, channels: EfficientNetLite.embeddingSize,
            output: embeddings)
    }

    /// The stem and the first `count` blocks of one image; returns the buffer holding the result and its side.
    private func trunk(
        _ source: UnsafePointer<Float>, size: Int, blocks count: Int, threads: Int,
        workspace: Workspace
    ) -> (UnsafeMutablePointer<Float>, Int) {
        let current = workspace.buffers[0]
        let spare = workspace.buffers[1]
        let team = workspace.team(threads)

        // Stem: 3x3 stride-2 convolution in chunks of 4 rows (each chunk its own scratch; chunks of
        // one row measured 1.06x the time), shared out between the threads.
        let outputSide = Kernels.samePadding(size: size, kernel: 3, stride: 2).output
        let scratchFloats = PackedPointwise.stemScratchFloats(width: size)
        Parallel.ranges(outputSide, threads: threads, team: team, chunks: outputSide / 4) { rows in
            stem.applyStem(
                source, height: size, width: size, rows: rows,
                scratch: spare + rows.lowerBound * scratchFloats, output: current)
        }

        return run(blocks: 0..<count, batch: 1, side: outputSide, from: current, threads: threads, workspace: workspace)
    }

    /// Blocks `range` over `batch` images of `side` x `side` whose activations are in `input` (the
    /// workspace's first or second buffer); returns the buffer holding the result and its side.
    private func run(
        blocks range: Range<Int>, batch: Int, side start: Int, from input: UnsafeMutablePointer<Float>,
        threads: Int, workspace: Workspace
    ) -> (UnsafeMutablePointer<Float>, Int) {
        var current = input
        var spare = workspace.buffers[input == workspace.buffers[0] ? 1 : 0]
        let depthwiseOut = workspace.buffers[2]
        let team = workspace.team(threads)
        var side = start
        for block in blocks[range] {
            let spec = block.spec
            var depthwiseIn = current
            if let expand = block.expand {
                expand.apply(current, rows: batch * side * side, output: spare, relu6: true, threads: threads, team: team)
                depthwiseIn = spare
            }
            Kernels.depthwise(
                depthwiseIn, batch: batch, height: side, width: side, channels: spec.expandedChannels,
                weights: block.depthwise.weights, bias: block.depthwise.bias, kernel: spec.kernel,
                stride: spec.stride, output: depthwiseOut, threads: threads, team: team)
            side = Kernels.samePadding(size: side, kernel: spec.kernel, stride: spec.stride).output
            block.project.apply(
                depthwiseOut, rows: batch * side * side, output: spare, relu6: false,
                residual: spec.hasResidual ? UnsafePointer(current) : nil, threads: threads, team: team)
            swap(&current, &spare)
        }
        return (current, side)
    }

    /// The most floats one image needs in any buffer from block `first` on (from the stem on, its
    /// scratch included, when `first` is 0).
    func largestActivation(size: Int, fromBlock first: Int = 0) -> Int {
        var side = Kernels.samePadding(size: size, kernel: 3, stride: 2).output
        var largest =
            first == 0
            ? max(
                side * side * EfficientNetLite.stemChannels,
                side * PackedPointwise.stemScratchFloats(width: size)) : 0
        for (index, block) in architecture.blocks.enumerated() {
            if index >= first { largest = max(largest, side * side * block.expandedChannels) }
            side = Kernels.samePadding(size: side, kernel: block.kernel, stride: block.stride).output
        }
        return max(largest, side * side * EfficientNetLite.embeddingSize)
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

/// Three activation buffers reused across forward passes, and the thread team of a single-image
/// pass on several threads. One forward pass uses a workspace at a time.
final class Workspace: @unchecked Sendable {
    let capacity: Int
    let buffers: [UnsafeMutablePointer<Float>]
    private var threadTeam: ThreadTeam?
    private var gathered: UnsafeMutablePointer<Float>?
    private var gatheredCapacity = 0

    /// A buffer of at least `floats` floats beside the three, where a group's images are gathered.
    func gather(floats: Int) -> UnsafeMutablePointer<Float> {
        if let gathered, gatheredCapacity >= floats { return gathered }
        gathered?.deallocate()
        let buffer = allocateAlignedFloats(floats)
        gathered = buffer
        gatheredCapacity = floats
        return buffer
    }

    /// A team of `threads` threads (started on first use), or nil for one thread.
    func team(_ threads: Int) -> ThreadTeam? {
        guard threads > 1 else { return nil }
        if let threadTeam, threadTeam.size >= threads { return threadTeam }
        threadTeam = ThreadTeam(size: threads)
        return threadTeam
    }

    init(capacity: Int) {
        self.capacity = capacity
        // 64-byte aligned: 0.89-0.97x the time of 16-byte aligned buffers (alternating passes).
        buffers = (0..<3).map { _ in allocateAlignedFloats(capacity) }
    }

    deinit {
        buffers.forEach { $0.deallocate() }
        gathered?.deallocate()
    }
}
