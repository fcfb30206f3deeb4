/// The trainable classifier on top of the frozen backbone: standardised 1280-d embeddings, an
/// optional hidden ReLU layer, then a linear layer to class logits.
public struct ClassifierHead: Sendable, Equatable {
    public let inputs: Int
    /// Width of the hidden layer; 0 for a plain softmax (linear) classifier.
    public let hidden: Int
    public let classes: Int
    /// Per-feature mean and inverse standard deviation of the training embeddings.
    public var inputMean: [Float]
    public var inputScale: [Float]
    /// `[hidden, inputs]` and `[hidden]`; empty without a hidden layer.
    public var hiddenWeights: [Float]
    public var hiddenBias: [Float]
    /// `[classes, width]` and `[classes]`, where width is `hidden` or `inputs`.
    public var outputWeights: [Float]
    public var outputBias: [Float]

    /// The width of the output layer's input.
    public var width: Int { hidden > 0 ? hidden : inputs }

    /// A head with small random weights (He initialisation for the hidden layer).
    public init(
        inputs: Int, hidden: Int, classes: Int, inputMean: [Float], inputScale: [Float],
        random: inout SeededRandom
    ) {
        self.inputs = inputs
        self.hidden = hidden
        self.classes = classes
        self.inputMean = inputMean
        self.inputScale = inputScale
        let width = hidden > 0 ? hidden : inputs
        let hiddenStd = hidden > 0 ? (2 / Double(inputs)).squareRoot() : 0
        hiddenWeights = (0..<(hidden * inputs)).map { _ in Float(random.normal() * hiddenStd) }
        hiddenBias = [Float](repeating: 0, count: hidden)
        let outputStd = 0.01
        outputWeights = (0..<(classes * width)).map { _ in Float(random.normal() * outputStd) }
        outputBias = [Float](repeating: 0, count: classes)
    }

    /// The tensors of a model package, named `head.*`.
    public var tensors: [String: HostTensor] {
        var tensors = [
            "head.input_mean": HostTensor(shape: [inputs], values: inputMean),
            "head.input_scale": HostTensor(shape: [inputs], values: inputScale),
            "head.output.weight": HostTensor(shape: [classes, width], values: outputWeights),
            "head.output.bias": HostTensor(shape: [classes], values: outputBias),
        ]
        if hidden > 0 {
            tensors["head.hidden.weight"] = HostTensor(shape: [hidden, inputs], values: hiddenWeights)
            tensors["head.hidden.bias"] = HostTensor(shape: [hidden], values: hiddenBias)
        }
        return tensors
    }

    /// Reads a head from package tensors, checking every shape.
    public init(tensors: [String: HostTensor]) throws(NeuralError) {
        func tensor(_ name: String) throws(NeuralError) -> HostTensor {
            guard let tensor = tensors[name] else { throw .missingTensor(name: name) }
            return tensor
        }
        let outputWeight = try tensor("head.output.weight")
        guard outputWeight.shape.count == 2 else {
            throw .shapeMismatch(name: "head.output.weight", expected: [-1, -1], found: outputWeight.shape)
        }
        let mean = try tensor("head.input_mean")
        inputs = mean.elementCount
        classes = outputWeight.shape[0]
        hidden = tensors["head.hidden.weight"]?.shape.first ?? 0
        let width = hidden > 0 ? hidden : inputs
        func floats(_ name: String, _ shape: [Int]) throws(NeuralError) -> [Float] {
            let found = try tensor(name)
            guard found.shape == shape else { throw .shapeMismatch(name: name, expected: shape, found: found.shape) }
            return try found.floats(name: name)
        }
        inputMean = try floats("head.input_mean", [inputs])
        inputScale = try floats("head.input_scale", [inputs])
        hiddenWeights = hidden > 0 ? try floats("head.hidden.weight", [hidden, inputs]) : []
        hiddenBias = hidden > 0 ? try floats("head.hidden.bias", [hidden]) : []
        outputWeights = try floats("head.output.weight", [classes, width])
        outputBias = try floats("head.output.bias", [classes])
        for name in tensors.keys where !Self.tensorNames.contains(name) {
            throw .unexpectedTensor(name: name)
        }
    }

    private static let tensorNames: Set<String> = [
        "head.input_mean", "head.input_scale", "head.hidden.weight", "head.hidden.bias",
        "head.output.weight", "head.output.bias",
    ]

    /// Logits `[count, classes]` for `count` embeddings `[count, inputs]`.
    public func logits(_ features: [Float], count: Int) -> [Float] {
        var activations = HeadActivations()
        forward(features, count: count, into: &activations)
        return activations.logits
    }

    /// Runs the head, keeping what the backward pass needs.
    func forward(_ features: [Float], count: Int, into activations: inout HeadActivations) {
        activations.standardised = [Float](repeating: 0, count: count * inputs)
        for row in 0..<count {
            for column in 0..<inputs {
                let index = row * inputs + column
                activations.standardised[index] = (features[index] - inputMean[column]) * inputScale[column]
            }
        }
        var layerInput = activations.standardised
        if hidden > 0 {
            activations.hidden = Self.affine(
                layerInput, count: count, inputs: inputs, weights: hiddenWeights,
                bias: hiddenBias, outputs: hidden)
            for index in activations.hidden.indices where activations.hidden[index] < 0 { activations.hidden[index] = 0 }
            layerInput = activations.hidden
        }
        activations.logits = Self.affine(
            layerInput, count: count, inputs: width, weights: outputWeights,
            bias: outputBias, outputs: classes)
    }

    /// `input[count, inputs] x weights[outputs, inputs]^T + bias`.
    static func affine(_ input: [Float], count: Int, inputs: Int, weights: [Float], bias: [Float], outputs: Int) -> [Float] {
        var output = [Float](repeating: 0, count: count * outputs)
        for row in 0..<count {
            for column in 0..<outputs { output[row * outputs + column] = bias[column] }
        }
        guard count > 0 else { return output }
        input.withUnsafeBufferPointer { a in
            weights.withUnsafeBufferPointer { b in
                output.withUnsafeMutableBufferPointer { c in
                    guard let a = a.baseAddress, let b = b.baseAddress, let c = c.baseAddress else { return }
                    Gemm.multiply(a, b, transposeB: true, into: c, m: count, n: outputs, k: inputs, beta: 1)
                }
            }
        }
        return output
    }
}

/// Intermediate values of one forward pass of the head.
struct HeadActivations {
    var standardised: [Float] = []
    var hidden: [Float] = []
    var logits: [Float] = []
}
