import FishImaging
import FishNeural
import FishServer
import FishServices
public import Foundation
import NIOCore

/// The parsers that read untrusted bytes, each as a libFuzzer harness: any input must end in a
/// value or a thrown error, never a crash, a hang or an unbounded allocation. `fishops-fuzz`
/// runs them under libFuzzer (`make fuzz`); the tests replay the inputs kept in
/// `Tests/Fuzz/regressions/<harness>/`.
public enum FuzzHarness: String, CaseIterable, Sendable {
    /// JPEG and PNG decoding, then the model's preprocessing (resize, crop, normalise).
    case image
    /// Weight files by content: the PyTorch pickle reader (legacy and zip) and safetensors.
    case checkpoint
    /// The safetensors header and tensor table.
    case safetensors
    /// The multipart reader of `/v1/classify/batch`; the first line of the input is the boundary.
    case multipart
    /// The training manifest CSV (`path,label[,group]`).
    case manifest

    /// Feeds `data` to the parser.
    public func run(_ data: Data) {
        switch self {
        case .image:
            // A modest pixel limit keeps single inputs fast; the limit itself is what is tested.
            guard let image = try? ImageDecoder(maxPixels: 4_000_000).decode(data, name: "fuzz") else { return }
            let preprocessing = Preprocessing.efficientNetLite
            var tensor = [Float](repeating: 0, count: preprocessing.inputSize * preprocessing.inputSize * 3)
            tensor.withUnsafeMutableBufferPointer { preprocessing.writeTensor(of: image, into: $0) }
        case .checkpoint:
            _ = try? CheckpointReader.decode(data, path: "fuzz")
        case .safetensors:
            _ = try? SafeTensors.decode(data, path: "fuzz")
        case .multipart:
            let newline = data.firstIndex(of: UInt8(ascii: "\n")) ?? data.endIndex
            let boundary = String(decoding: data[data.startIndex..<newline], as: UTF8.self)
            let body = ByteBuffer(bytes: data[min(newline + 1, data.endIndex)...])
            _ = try? ImageUpload.all(in: body, contentType: "multipart/form-data; boundary=\(boundary)", maxParts: 256)
        case .manifest:
            let text = String(decoding: data, as: UTF8.self)
            _ = try? DatasetScanner.parseManifest(
                text, file: URL(fileURLWithPath: "/fuzz/manifest.csv"),
                base: URL(fileURLWithPath: "/fuzz"))
        }
    }
}
