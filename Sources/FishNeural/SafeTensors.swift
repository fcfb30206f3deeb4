public import Foundation

/// The safetensors format: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the tensor bytes.
public enum SafeTensors {
    /// Encodes `tensors` (and optional string `metadata`) as safetensors bytes, names sorted.
    public static func encode(_ tensors: [String: HostTensor], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            guard let tensor = tensors[name] else { continue }
            header[name] =
                [
                    "dtype": tensor.dtype.rawValue, "shape": tensor.shape,
                    "data_offsets": [offset, offset + tensor.bytes.count],
                ] as [String: Any]
            offset += tensor.bytes.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var output = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { output.append(contentsOf: $0) }
        output.append(json)
        for name in names { if let tensor = tensors[name] { output.append(contentsOf: tensor.bytes) } }
        return output
    }

    /// Decodes safetensors bytes; `path` labels errors.
    public static func decode(_ data: Data, path: String) throws(NeuralError) -> (
        tensors: [String: HostTensor], metadata: [String: String]
    ) {
        func malformed(_ reason: String) -> NeuralError { .malformed(path: path, format: "safetensors", reason: reason) }
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else { throw malformed("shorter than its 8-byte header length") }
        let headerLength = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard headerLength <= UInt64(bytes.count - 8) else { throw malformed("header length \(headerLength) exceeds the file") }
        let dataStart = 8 + Int(headerLength)
        guard let header = try? JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart])) as? [String: Any] else {
            throw malformed("the header is not a JSON object")
        }
        var tensors: [String: HostTensor] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                metadata = value as? [String: String] ?? [:]
                continue
            }
            guard let entry = value as? [String: Any], let dtypeName = entry["dtype"] as? String,
                let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw malformed("entry \(name) lacks dtype, shape or data_offsets") }
            guard let dtype = TensorDType(rawValue: dtypeName) else { throw .unsupportedDType(name: name, dtype: dtypeName) }
            let dataLength = bytes.count - dataStart
            guard shape.allSatisfy({ $0 >= 0 }), let elements = HostTensor.checkedProduct(shape),
                elements <= HostTensor.maximumElements, offsets[0] >= 0, offsets[0] <= offsets[1],
                offsets[1] <= dataLength, offsets[1] - offsets[0] == elements * dtype.size
            else {
                throw malformed("tensor \(name) does not fit its byte range")
            }
            tensors[name] = HostTensor(
                dtype: dtype, shape: shape,
                bytes: Array(bytes[(dataStart + offsets[0])..<(dataStart + offsets[1])]))
        }
        return (tensors, metadata)
    }
}
