import Foundation

/// A minimal protocol-buffers writer: varints, 32-bit floats and length-delimited fields —
/// what the ONNX schema needs. Fields are appended in the order they are written.
struct ProtobufWriter {
    private(set) var data = Data()

    mutating func varint(_ field: Int, _ value: Int64) {
        key(field, wireType: 0)
        appendVarint(UInt64(bitPattern: value))
    }

    mutating func float(_ field: Int, _ value: Float) {
        key(field, wireType: 5)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
    }

    mutating func bytes(_ field: Int, _ value: Data) {
        key(field, wireType: 2)
        appendVarint(UInt64(value.count))
        data.append(value)
    }

    mutating func string(_ field: Int, _ value: String) { bytes(field, Data(value.utf8)) }

    /// A nested message built by `build`.
    mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var nested = ProtobufWriter()
        build(&nested)
        bytes(field, nested.data)
    }

    /// A packed repeated int64 field.
    mutating func packed(_ field: Int, _ values: [Int64]) {
        var nested = ProtobufWriter()
        for value in values { nested.appendVarint(UInt64(bitPattern: value)) }
        bytes(field, nested.data)
    }

    private mutating func key(_ field: Int, wireType: UInt64) {
        appendVarint(UInt64(field) << 3 | wireType)
    }

    private mutating func appendVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            data.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        data.append(UInt8(rest))
    }
}
