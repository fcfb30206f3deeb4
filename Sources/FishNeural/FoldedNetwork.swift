/// An EfficientNet-Lite network with batch norm folded into every convolution (`w * scale`, `beta - mean * scale`),
/// weights kept in PyTorch layout `[out, in, kh, kw]`. The engine and the ONNX exporter build on it.
public struct FoldedNetwork: Sendable {
    /// A convolution (or linear layer) with its bias.
    public struct Convolution: Sendable {
        public let weights: [Float]
        public let bias: [Float]
        /// `[out, in per group, kh, kw]` (`[out, in]` for the classifier).
        public let shape: [Int]
    }

    public struct Block: Sendable {
        public let spec: EfficientNetLite.Block
        public let expand: Convolution?
        public let depthwise: Convolution
        public let project: Convolution
    }

    /// The family member the checkpoint is of.
    public let architecture: EfficientNetLite
    public let stem: Convolution
    public let blocks: [Block]
    public let head: Convolution
    public let classifier: Convolution
    public var classes: Int { classifier.bias.count }

    /// Validates checkpoint tensors against the architecture and folds them.
    public init(tensors: [String: HostTensor]) throws(NeuralError) {
        let (architecture, weights, _) = try EfficientNetLite.validate(tensors)
        self.architecture = architecture
        func values(_ name: String) throws(NeuralError) -> [Float] {
            guard let tensor = weights[name] else { throw .missingTensor(name: name) }
            return try tensor.floats(name: name)
        }
        func fold(_ convolution: String, _ norm: String) throws(NeuralError) -> Convolution {
            let name = convolution + ".weight"
            let raw = try values(name)
            let gamma = try values(norm + ".weight")
            let beta = try values(norm + ".bias")
            let mean = try values(norm + ".running_mean")
            let variance = try values(norm + ".running_var")
            let scale = zip(gamma, variance).map { $0 / ($1 + EfficientNetLite.batchNormEpsilon).squareRoot() }
            let perOutput = raw.count / scale.count
            let folded = raw.indices.map { raw[$0] * scale[$0 / perOutput] }
            let bias = scale.indices.map { beta[$0] - mean[$0] * scale[$0] }
            return Convolution(weights: folded, bias: bias, shape: weights[name]?.shape ?? [])
        }
        stem = try fold("_conv_stem", "_bn0")
        var blocks: [Block] = []
        for spec in architecture.blocks {
            let p = spec.prefix
            blocks.append(
                Block(
                    spec: spec,
                    expand: spec.hasExpansion ? try fold(p + "_expand_conv", p + "_bn0") : nil,
                    depthwise: try fold(p + "_depthwise_conv", p + "_bn1"),
                    project: try fold(p + "_project_conv", p + "_bn2")))
        }
        self.blocks = blocks
        head = try fold("_conv_head", "_bn1")
        let fcBias = try values("_fc.bias")
        classifier = Convolution(
            weights: try values("_fc.weight"), bias: fcBias, shape: [fcBias.count, EfficientNetLite.embeddingSize])
    }
}
