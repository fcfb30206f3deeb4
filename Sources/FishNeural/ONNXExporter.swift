public import Foundation

/// Writes a folded EfficientNet-Lite network as an ONNX model (opset 13): input `input` float32
/// `[batch, 3, size, size]` (NCHW, already normalised), outputs `logits` `[batch, classes]` and
/// `embedding` `[batch, 1280]`. TF SAME padding becomes explicit (asymmetric) pads, so the graph
/// is fixed to one input size. With a trained head, `logits` are the head's.
public enum ONNXExporter {
    // ONNX enum values (onnx.proto).
    private static let floatType: Int64 = 1
    private static let attributeInt: Int64 = 2, attributeInts: Int64 = 7

    /// The serialised ModelProto of `network`, classified by `head` when given.
    public static func export(_ network: FoldedNetwork, head: ClassifierHead? = nil, inputSize: Int, modelName: String) -> Data {
        var graph = GraphBuilder()
        graph.constant("relu6_min", [0], dims: [])
        graph.constant("relu6_max", [6], dims: [])
        var side = inputSize
        var current = graph.convolution("input", network.stem, stride: 2, inputSide: side, name: "stem", relu6: true)
        side = Kernels.samePadding(size: side, kernel: 3, stride: 2).output
        for block in network.blocks {
            let spec = block.spec
            let name = "block\(spec.index)"
            var x = current
            if let expand = block.expand {
                x = graph.convolution(x, expand, stride: 1, inputSide: side, name: name + ".expand", relu6: true)
            }
            x = graph.convolution(
                x, block.depthwise, stride: spec.stride, inputSide: side, name: name + ".depthwise",
                relu6: true, groups: spec.expandedChannels)
            side = Kernels.samePadding(size: side, kernel: spec.kernel, stride: spec.stride).output
            x = graph.convolution(x, block.project, stride: 1, inputSide: side, name: name + ".project", relu6: false)
            if spec.hasResidual {
                x = graph.node("Add", inputs: [x, current], output: name + ".add")
            }
            current = x
        }
        current = graph.convolution(current, network.head, stride: 1, inputSide: side, name: "head", relu6: true)
        let pooled = graph.node("GlobalAveragePool", inputs: [current], output: "pooled")
        graph.node("Flatten", inputs: [pooled], output: "embedding", attributes: [("axis", .int(1))])
        let classes: Int
        if let head {
            graph.classifier(head)
            classes = head.classes
        } else {
            graph.constant("fc.weight", network.classifier.weights, dims: network.classifier.shape)
            graph.constant("fc.bias", network.classifier.bias, dims: [network.classes])
            graph.node(
                "Gemm", inputs: ["embedding", "fc.weight", "fc.bias"], output: "logits", attributes: [("transB", .int(1))])
            classes = network.classes
        }

        var model = ProtobufWriter()
        model.varint(1, 8)  // ir_version
        model.string(2, "fishops")  // producer_name
        model.message(8) { $0.varint(2, 13) }  // opset_import: default domain, version 13
        model.message(7) { writer in  // graph
            for node in graph.nodes { writer.bytes(1, node) }
            writer.string(2, modelName)
            for initializer in graph.initializers { writer.bytes(5, initializer) }
            writer.bytes(11, valueInfo("input", dims: [nil, 3, inputSize, inputSize]))
            writer.bytes(12, valueInfo("logits", dims: [nil, classes]))
            writer.bytes(12, valueInfo("embedding", dims: [nil, EfficientNetLite.embeddingSize]))
        }
        return model.data
    }

    /// A float tensor's ValueInfoProto; nil dimensions are the symbolic batch size.
    private static func valueInfo(_ name: String, dims: [Int?]) -> Data {
        var info = ProtobufWriter()
        info.string(1, name)
        info.message(2) { type in  // TypeProto
            type.message(1) { tensor in  // tensor_type
                tensor.varint(1, floatType)
                tensor.message(2) { shape in
                    for dim in dims {
                        shape.message(1) { dimension in
                            if let dim { dimension.varint(1, Int64(dim)) } else { dimension.string(2, "batch") }
                        }
                    }
                }
            }
        }
        return info.data
    }

    enum Attribute {
        case int(Int)
        case ints([Int])
    }

    /// Accumulates nodes and initializers (serialised NodeProto / TensorProto messages).
    struct GraphBuilder {
        var nodes: [Data] = []
        var initializers: [Data] = []

        mutating func constant(_ name: String, _ values: [Float], dims: [Int]) {
            var tensor = ProtobufWriter()
            tensor.packed(1, dims.map(Int64.init))
            tensor.varint(2, ONNXExporter.floatType)
            tensor.string(8, name)
            tensor.bytes(9, values.withUnsafeBytes { Data($0) })
            initializers.append(tensor.data)
        }

        @discardableResult
        mutating func node(_ op: String, inputs: [String], output: String, attributes: [(String, Attribute)] = []) -> String {
            var node = ProtobufWriter()
            for input in inputs { node.string(1, input) }
            node.string(2, output)
            node.string(3, output)
            node.string(4, op)
            for (name, value) in attributes {
                node.message(5) { attribute in
                    attribute.string(1, name)
                    switch value {
                    case let .int(number):
                        attribute.varint(3, Int64(number))
                        attribute.varint(20, ONNXExporter.attributeInt)
                    case let .ints(numbers):
                        attribute.packed(8, numbers.map(Int64.init))
                        attribute.varint(20, ONNXExporter.attributeInts)
                    }
                }
            }
            nodes.append(node.data)
            return output
        }

        /// A trained head on `embedding`: standardise, optional hidden ReLU layer, then `logits`.
        mutating func classifier(_ head: ClassifierHead) {
            constant("head.input_mean", head.inputMean, dims: [head.inputs])
            constant("head.input_scale", head.inputScale, dims: [head.inputs])
            node("Sub", inputs: ["embedding", "head.input_mean"], output: "head.centred")
            var features = node("Mul", inputs: ["head.centred", "head.input_scale"], output: "head.standardised")
            if head.hidden > 0 {
                constant("head.hidden.weight", head.hiddenWeights, dims: [head.hidden, head.inputs])
                constant("head.hidden.bias", head.hiddenBias, dims: [head.hidden])
                node(
                    "Gemm", inputs: [features, "head.hidden.weight", "head.hidden.bias"], output: "head.hidden",
                    attributes: [("transB", .int(1))])
                features = node("Relu", inputs: ["head.hidden"], output: "head.hidden.relu")
            }
            constant("head.output.weight", head.outputWeights, dims: [head.classes, head.width])
            constant("head.output.bias", head.outputBias, dims: [head.classes])
            node(
                "Gemm", inputs: [features, "head.output.weight", "head.output.bias"], output: "logits",
                attributes: [("transB", .int(1))])
        }

        /// Conv with TF SAME padding for an input of `inputSide`, optionally followed by ReLU6 (Clip).
        mutating func convolution(
            _ input: String, _ layer: FoldedNetwork.Convolution, stride: Int, inputSide: Int,
            name: String, relu6: Bool, groups: Int = 1
        ) -> String {
            let kernel = layer.shape.count == 4 ? layer.shape[3] : 1
            let before = Kernels.samePadding(size: inputSide, kernel: kernel, stride: stride)
            let total = max((before.output - 1) * stride + kernel - inputSide, 0)
            let after = total - before.before
            constant(name + ".weight", layer.weights, dims: layer.shape)
            constant(name + ".bias", layer.bias, dims: [layer.bias.count])
            let output = node(
                "Conv", inputs: [input, name + ".weight", name + ".bias"], output: name,
                attributes: [
                    ("kernel_shape", .ints([kernel, kernel])), ("strides", .ints([stride, stride])),
                    ("pads", .ints([before.before, before.before, after, after])), ("group", .int(groups)),
                ])
            return relu6 ? node("Clip", inputs: [output, "relu6_min", "relu6_max"], output: name + ".relu6") : output
        }
    }
}
