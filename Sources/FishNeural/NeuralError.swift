/// Errors of the neural engine and its file formats; messages say what went wrong and what to do.
public enum NeuralError: Error, Equatable, CustomStringConvertible {
    case unreadableFile(path: String, reason: String)
    case unknownFormat(path: String)
    case malformed(path: String, format: String, reason: String)
    case unsupportedDType(name: String, dtype: String)
    case missingTensor(name: String)
    case unexpectedTensor(name: String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    case nonFinite(name: String)
    case invalidPackage(path: String, reason: String)
    case invalidInput(String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason):
            return "\(path): cannot read the file (\(reason))"
        case let .unknownFormat(path):
            return "\(path): not a PyTorch checkpoint (legacy or zip format) nor a safetensors file"
        case let .malformed(path, format, reason):
            return "\(path): corrupt or truncated \(format) file (\(reason)); download it again"
        case let .unsupportedDType(name, dtype):
            return "tensor \(name) has dtype \(dtype); only float32 weights are supported"
        case let .missingTensor(name):
            return "tensor \(name) is missing: this is not an EfficientNet-Lite0 checkpoint"
        case let .unexpectedTensor(name):
            return "unexpected tensor \(name): this is not an EfficientNet-Lite0 checkpoint"
        case let .shapeMismatch(name, expected, found):
            return "tensor \(name) has shape \(found), expected \(expected): not an EfficientNet-Lite0 checkpoint"
        case let .nonFinite(name):
            return "tensor \(name) holds NaN or infinite values: the checkpoint is broken (export or download it again)"
        case let .invalidPackage(path, reason):
            return "\(path): invalid model package (\(reason)); re-import or re-train the model"
        case let .invalidInput(reason):
            return reason
        }
    }
}
