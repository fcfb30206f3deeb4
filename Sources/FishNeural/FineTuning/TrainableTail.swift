/// The trainable end of an EfficientNet-Lite network: the MBConv blocks from `firstBlock` on (and the stem
/// when it is 0), the head convolution and the classifier. Batch norm keeps its running statistics
/// frozen while its scale and shift train. Tensors keep their PyTorch names and layouts, so a
/// fine-tuned tail drops back into a full checkpoint.
public struct TrainableTail<T: TrainingScalar>: Sendable {
    /// Which part of which network is trainable.
    public struct Architecture: Sendable {
        public var blocks: [EfficientNetLite.Block]
        public var stemChannels: Int
        public var embedding: Int
        public var classes: Int
        /// The first trainable block; 0 makes the stem trainable too, `blocks.count` only the head.
        public var firstBlock: Int

        /// The tail of `network` from `firstBlock` on.
        public init(network: EfficientNetLite, classes: Int, firstBlock: Int) {
            self.init(
                blocks: network.blocks, stemChannels: EfficientNetLite.stemChannels,
                embedding: EfficientNetLite.embeddingSize, classes: classes, firstBlock: firstBlock)
        }

        /// A tail of any shape (the gradient checks use small ones).
        public init(blocks: [EfficientNetLite.Block], stemChannels: Int, embedding: Int, classes: Int, firstBlock: Int) {
            self.blocks = blocks
            self.stemChannels = stemChannels
            self.embedding = embedding
            self.classes = classes
            self.firstBlock = firstBlock
        }

        /// Channels of the tail's input (the image's 3 when the stem trains).
        public var inputChannels: Int {
            firstBlock == 0 ? 3 : firstBlock < blocks.count ? blocks[firstBlock].inputChannels : headInputs
        }
        var headInputs: Int { blocks.last?.outputChannels ?? stemChannels }

        /// Shapes of the trainable tensors and of the frozen batch-norm statistics, by name.
        public var shapes: (trainable: [String: [Int]], statistics: [String: [Int]]) {
            var trainable: [String: [Int]] = [:]
            var statistics: [String: [Int]] = [:]
            func norm(_ prefix: String, _ channels: Int) {
                trainable[prefix + ".weight"] = [channels]
                trainable[prefix + ".bias"] = [channels]
                statistics[prefix + ".running_mean"] = [channels]
                statistics[prefix + ".running_var"] = [channels]
            }
            if firstBlock == 0 {
                trainable["_conv_stem.weight"] = [stemChannels, 3, 3, 3]
                norm("_bn0", stemChannels)
            }
            for block in blocks[firstBlock...] {
                let p = block.prefix
                if block.hasExpansion {
                    trainable[p + "_expand_conv.weight"] = [block.expandedChannels, block.inputChannels, 1, 1]
                    norm(p + "_bn0", block.expandedChannels)
                }
                trainable[p + "_depthwise_conv.weight"] = [block.expandedChannels, 1, block.kernel, block.kernel]
                norm(p + "_bn1", block.expandedChannels)
                trainable[p + "_project_conv.weight"] = [block.outputChannels, block.expandedChannels, 1, 1]
                norm(p + "_bn2", block.outputChannels)
            }
            trainable["_conv_head.weight"] = [embedding, headInputs, 1, 1]
            norm("_bn1", embedding)
            trainable["_fc.weight"] = [classes, embedding]
            trainable["_fc.bias"] = [classes]
            return (trainable, statistics)
        }
    }

    /// What a forward pass keeps for the backward pass.
    public struct Trace: Sendable {
        public let batch: Int
        public let logits: [T]
        public let embeddings: [T]
        fileprivate var saved: [String: [T]]
        fileprivate var sides: [Int]
    }

    public let architecture: Architecture
    /// The trainable tensors by PyTorch name.
    public var parameters: [String: [T]]
    /// Frozen batch-norm statistics by name.
    public let statistics: [String: [T]]
    public let epsilon: T

    /// Takes the trainable tensors and statistics from `tensors` (PyTorch names, flattened); every
    /// name `architecture.shapes` lists must be there with the right size.
    public init(architecture: Architecture, tensors: [String: [T]], epsilon: T = T(EfficientNetLite.batchNormEpsilon))
        throws(NeuralError)
    {
        let (trainable, statistics) = architecture.shapes
        func take(_ shapes: [String: [Int]]) throws(NeuralError) -> [String: [T]] {
            var result: [String: [T]] = [:]
            for (name, shape) in shapes {
                guard let values = tensors[name] else { throw .missingTensor(name: name) }
                guard values.count == shape.reduce(1, *) else {
                    throw .shapeMismatch(name: name, expected: shape, found: [values.count])
                }
                result[name] = values
            }
            return result
        }
        self.architecture = architecture
        parameters = try take(trainable)
        self.statistics = try take(statistics)
        self.epsilon = epsilon
    }

    private func p(_ name: String) -> [T] { parameters[name] ?? [] }
    private func s(_ name: String) -> [T] { statistics[name] ?? [] }

    private func norm(_ x: [T], _ prefix: String, channels: Int) -> [T] {
        Layers.norm(
            x, channels: channels, gamma: p(prefix + ".weight"), beta: p(prefix + ".bias"),
            mean: s(prefix + ".running_mean"), variance: s(prefix + ".running_var"), epsilon: epsilon)
    }

    private func normBackward(_ x: [T], _ dy: [T], _ prefix: String, channels: Int, into gradients: inout [String: [T]]) -> [T] {
        let (dx, dgamma, dbeta) = Layers.normBackward(
            x, dy, channels: channels, gamma: p(prefix + ".weight"),
            mean: s(prefix + ".running_mean"), variance: s(prefix + ".running_var"),
            epsilon: epsilon)
        gradients[prefix + ".weight"] = dgamma
        gradients[prefix + ".bias"] = dbeta
        return dx
    }

    /// Runs `input` (`batch` images of `side` x `side` x `inputChannels`, NHWC) to the logits.
    public func forward(_ input: [T], batch: Int, side inputSide: Int) -> Trace {
        var saved: [String: [T]] = [:]
        var sides: [Int] = []
        var x = input
        var side = inputSide
        let a = architecture
        if a.firstBlock == 0 {
            let (rows, out) = Layers.im2col(x, batch: batch, side: side, channels: 3, kernel: 3, stride: 2)
            side = out
            let s0 = Layers.pointwise(
                rows, rows: batch * side * side, weights: p("_conv_stem.weight"), inputs: 27, outputs: a.stemChannels)
            saved["stem.rows"] = rows
            saved["stem.pre"] = s0
            x = Layers.relu6(norm(s0, "_bn0", channels: a.stemChannels))
            saved["stem.out"] = x
        }
        for block in a.blocks[a.firstBlock...] {
            let key = "\(block.index)."
            let rows = batch * side * side
            sides.append(side)
            saved[key + "in"] = x
            var e = x
            if block.hasExpansion {
                let e0 = Layers.pointwise(
                    x, rows: rows, weights: p(block.prefix + "_expand_conv.weight"), inputs: block.inputChannels,
                    outputs: block.expandedChannels)
                e = Layers.relu6(norm(e0, block.prefix + "_bn0", channels: block.expandedChannels))
                saved[key + "e0"] = e0
                saved[key + "e"] = e
            }
            let (d0, out) = Layers.depthwise(
                e, batch: batch, side: side, channels: block.expandedChannels,
                weights: p(block.prefix + "_depthwise_conv.weight"), kernel: block.kernel, stride: block.stride)
            side = out
            let d = Layers.relu6(norm(d0, block.prefix + "_bn1", channels: block.expandedChannels))
            let p0 = Layers.pointwise(
                d, rows: batch * side * side, weights: p(block.prefix + "_project_conv.weight"),
                inputs: block.expandedChannels, outputs: block.outputChannels)
            var y = norm(p0, block.prefix + "_bn2", channels: block.outputChannels)
            if block.hasResidual { for i in y.indices { y[i] += x[i] } }
            saved[key + "d0"] = d0
            saved[key + "d"] = d
            saved[key + "p0"] = p0
            x = y
        }
        let pixels = side * side
        saved["head.in"] = x
        let h0 = Layers.pointwise(
            x, rows: batch * pixels, weights: p("_conv_head.weight"), inputs: a.headInputs, outputs: a.embedding)
        let h = Layers.relu6(norm(h0, "_bn1", channels: a.embedding))
        saved["head.pre"] = h0
        saved["head.out"] = h
        sides.append(side)
        let embeddings = Layers.averagePool(h, batch: batch, pixels: pixels, channels: a.embedding)
        let logits = Layers.linear(embeddings, batch: batch, weights: p("_fc.weight"), bias: p("_fc.bias"), features: a.embedding)
        return Trace(batch: batch, logits: logits, embeddings: embeddings, saved: saved, sides: sides)
    }

    /// The gradient of every trainable tensor, given the gradient of the logits.
    public func backward(_ trace: Trace, dlogits: [T]) -> [String: [T]] {
        let a = architecture
        let batch = trace.batch
        var gradients: [String: [T]] = [:]
        func saved(_ key: String) -> [T] { trace.saved[key] ?? [] }
        // Classifier and head.
        let embeddings = trace.embeddings
        gradients["_fc.weight"] =
            Layers.pointwiseBackward(
                embeddings, dlogits, rows: batch, weights: p("_fc.weight"),
                inputs: a.embedding, outputs: a.classes, needInput: false
            ).dw
        gradients["_fc.bias"] = (0..<a.classes).map { c in (0..<batch).reduce(T(0)) { $0 + dlogits[$1 * a.classes + c] } }
        var dembeddings = [T](repeating: 0, count: batch * a.embedding)
        matmul(dlogits, p("_fc.weight"), into: &dembeddings, m: batch, n: a.embedding, k: a.classes)
        let side = trace.sides.last ?? 1
        let pixels = side * side
        let dh = Layers.relu6Backward(
            saved("head.out"), Layers.averagePoolBackward(dembeddings, batch: batch, pixels: pixels, channels: a.embedding))
        let dh0 = normBackward(saved("head.pre"), dh, "_bn1", channels: a.embedding, into: &gradients)
        let onlyHead = a.firstBlock == a.blocks.count
        var (dx, dhead) = Layers.pointwiseBackward(
            saved("head.in"), dh0, rows: batch * pixels, weights: p("_conv_head.weight"),
            inputs: a.headInputs, outputs: a.embedding, needInput: !onlyHead)
        gradients["_conv_head.weight"] = dhead
        // Blocks, last first.
        for (position, block) in a.blocks[a.firstBlock...].enumerated().reversed() {
            let key = "\(block.index)."
            let inSide = trace.sides[position]
            let outSide = Kernels.samePadding(size: inSide, kernel: block.kernel, stride: block.stride).output
            let needInput = block.index > a.firstBlock || a.firstBlock == 0
            let dy = dx
            let dp0 = normBackward(saved(key + "p0"), dy, block.prefix + "_bn2", channels: block.outputChannels, into: &gradients)
            let (dd, dproject) = Layers.pointwiseBackward(
                saved(key + "d"), dp0, rows: batch * outSide * outSide,
                weights: p(block.prefix + "_project_conv.weight"),
                inputs: block.expandedChannels, outputs: block.outputChannels)
            gradients[block.prefix + "_project_conv.weight"] = dproject
            let dd0 = normBackward(
                saved(key + "d0"), Layers.relu6Backward(saved(key + "d"), dd), block.prefix + "_bn1",
                channels: block.expandedChannels, into: &gradients)
            let depthwiseInput = block.hasExpansion ? saved(key + "e") : saved(key + "in")
            let (de, ddepthwise) = Layers.depthwiseBackward(
                depthwiseInput, dd0, batch: batch, side: inSide, channels: block.expandedChannels,
                weights: p(block.prefix + "_depthwise_conv.weight"), kernel: block.kernel,
                stride: block.stride, needInput: needInput || block.hasExpansion)
            gradients[block.prefix + "_depthwise_conv.weight"] = ddepthwise
            if block.hasExpansion {
                let de0 = normBackward(
                    saved(key + "e0"), Layers.relu6Backward(saved(key + "e"), de), block.prefix + "_bn0",
                    channels: block.expandedChannels, into: &gradients)
                let (dinput, dexpand) = Layers.pointwiseBackward(
                    saved(key + "in"), de0, rows: batch * inSide * inSide,
                    weights: p(block.prefix + "_expand_conv.weight"),
                    inputs: block.inputChannels, outputs: block.expandedChannels,
                    needInput: needInput)
                gradients[block.prefix + "_expand_conv.weight"] = dexpand
                dx = dinput
            } else {
                dx = de
            }
            if block.hasResidual && needInput { for i in dx.indices { dx[i] += dy[i] } }
        }
        if a.firstBlock == 0 {
            let ds0 = normBackward(
                saved("stem.pre"), Layers.relu6Backward(saved("stem.out"), dx), "_bn0", channels: a.stemChannels,
                into: &gradients)
            let rows = saved("stem.rows")
            gradients["_conv_stem.weight"] =
                Layers.pointwiseBackward(
                    rows, ds0, rows: rows.count / 27, weights: p("_conv_stem.weight"),
                    inputs: 27, outputs: a.stemChannels, needInput: false
                ).dw
        }
        return gradients
    }
}

extension TrainableTail where T == Float {
    /// One forward and backward pass with the loss (label smoothing `smoothing`), returning the
    /// loss and the gradients; compiled for `Float` here, so callers in other modules get the
    /// specialised code.
    /// The batch is split into `threads` parts run in parallel; their gradients are summed in a
    /// fixed order, so the result does not depend on timing.
    public func lossAndGradients(
        _ input: [Float], batch: Int, side: Int, labels: [Int], smoothing: Float,
        classWeights: [Float]? = nil, threads: Int = 1
    ) -> (loss: Float, gradients: [String: [Float]], correct: Int) {
        let parts = max(min(threads, batch), 1)
        let perImage = input.count / max(batch, 1)
        let normalizer = labels.reduce(Float(0)) { $0 + (classWeights?[$1] ?? 1) }
        var results = [(loss: Float, gradients: [String: [Float]], correct: Int)?](repeating: nil, count: parts)
        results.withUnsafeMutableBufferPointer { slots in
            Parallel.forEach(parts, threads: parts) { part in
                let range = (batch * part / parts)..<(batch * (part + 1) / parts)
                let trace = forward(
                    Array(input[(range.lowerBound * perImage)..<(range.upperBound * perImage)]), batch: range.count, side: side)
                let (loss, dlogits, correct) = Layers.crossEntropy(
                    trace.logits, labels: Array(labels[range]), classes: architecture.classes,
                    smoothing: smoothing, classWeights: classWeights, normalizer: normalizer)
                slots[part] = (loss, backward(trace, dlogits: dlogits), correct)
            }
        }
        var total = results[0] ?? (0, [:], 0)
        for result in results.dropFirst().compactMap({ $0 }) {
            total.loss += result.loss
            total.correct += result.correct
            for (name, gradient) in result.gradients {
                guard var sum = total.gradients[name] else { continue }
                for i in sum.indices { sum[i] += gradient[i] }
                total.gradients[name] = sum
            }
        }
        return total
    }
}
