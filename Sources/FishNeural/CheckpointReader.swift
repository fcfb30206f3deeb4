public import Foundation

/// Reads weight files by their content: PyTorch legacy, PyTorch zip, or safetensors.
public enum CheckpointReader {
    /// The tensors stored in the file at `path`.
    public static func read(path: String) throws(NeuralError) -> [String: HostTensor] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            let exists = FileManager.default.fileExists(atPath: path)
            throw .unreadableFile(path: path, reason: exists ? "permission denied or not a regular file" : "no such file")
        }
        return try decode(data, path: path)
    }

    /// The tensors stored in `data`, the contents of a weights file; `path` names it in errors.
    public static func decode(_ data: Data, path: String) throws(NeuralError) -> [String: HostTensor] {
        let head = [UInt8](data.prefix(16))
        if TorchCheckpoint.isLegacy(head) { return try TorchCheckpoint.readLegacy([UInt8](data), path: path) }
        if TorchCheckpoint.isZip(head) { return try TorchCheckpoint.readZip(data, path: path) }
        if looksLikeSafeTensors(head) { return try SafeTensors.decode(data, path: path).tensors }
        if data.isEmpty { throw .malformed(path: path, format: "weights", reason: "the file is empty") }
        throw .unknownFormat(path: path)
    }

    /// safetensors files start with a little-endian header length followed by `{`.
    private static func looksLikeSafeTensors(_ head: [UInt8]) -> Bool {
        head.count > 8 && head[8] == UInt8(ascii: "{") && head[6] == 0 && head[7] == 0
    }
}
