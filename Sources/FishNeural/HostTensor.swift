/// Element types of stored tensors, named as safetensors names them.
public enum TensorDType: String, Sendable, Codable {
    case f32 = "F32"
    case f64 = "F64"
    case f16 = "F16"
    case bf16 = "BF16"
    case i64 = "I64"
    case i32 = "I32"
    case i16 = "I16"
    case i8 = "I8"
    case u8 = "U8"
    case bool = "BOOL"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64, .i64: 8
        case .f32, .i32: 4
        case .f16, .bf16, .i16: 2
        case .i8, .u8, .bool: 1
        }
    }
}

/// A tensor as read from a file: its element type, shape and contiguous little-endian bytes.
public struct HostTensor: Sendable {
    public let dtype: TensorDType
    public let shape: [Int]
    public let bytes: [UInt8]

    public var elementCount: Int { shape.reduce(1, *) }

    public init(dtype: TensorDType, shape: [Int], bytes: [UInt8]) {
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// A float32 tensor holding `values`.
    public init(shape: [Int], values: [Float]) {
        self.dtype = .f32
        self.shape = shape
        self.bytes = values.withUnsafeBytes { Array($0) }
    }

    /// The values of a float32 tensor; NaN or infinity anywhere in it is refused.
    public func floats(name: String) throws(NeuralError) -> [Float] {
        guard dtype == .f32 else { throw .unsupportedDType(name: name, dtype: dtype.rawValue) }
        let values = [Float](unsafeUninitializedCapacity: elementCount) { buffer, count in
            bytes.withUnsafeBytes { raw in
                let target = UnsafeMutableRawBufferPointer(buffer)
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw.prefix(target.count)))
            }
            count = elementCount
        }
        guard values.allSatisfy(\.isFinite) else { throw .nonFinite(name: name) }
        return values
    }

    /// The largest tensor accepted from a file: 2^31 elements.
    static let maximumElements = 1 << 31

    /// The product of `values`, or nil when it overflows.
    static func checkedProduct(_ values: [Int]) -> Int? {
        var product = 1
        for value in values {
            let (next, overflow) = product.multipliedReportingOverflow(by: value)
            guard !overflow else { return nil }
            product = next
        }
        return product
    }

    /// Gathers a strided view of `storage` (element offset, shape, strides in elements)
    /// into a contiguous tensor; returns nil when the view reaches outside the storage.
    static func gather(storage: ArraySlice<UInt8>, dtype: TensorDType, offset: Int, shape: [Int], strides: [Int]) -> HostTensor? {
        let size = dtype.size
        guard shape.count == strides.count, offset >= 0, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }),
            let count = checkedProduct(shape), count <= maximumElements
        else { return nil }
        let storageElements = storage.count / size
        if count > 0 {
            var lastElement = offset
            for (dimension, stride) in zip(shape, strides) {
                let (step, overflow) = (dimension - 1).multipliedReportingOverflow(by: stride)
                let (sum, overflowSum) = lastElement.addingReportingOverflow(step)
                guard !overflow, !overflowSum else { return nil }
                lastElement = sum
            }
            guard lastElement < storageElements else { return nil }
        }
        var output = [UInt8](repeating: 0, count: count * size)
        var index = [Int](repeating: 0, count: shape.count)
        storage.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                for element in 0..<count {
                    let sourceElement = offset + zip(index, strides).reduce(0) { $0 + $1.0 * $1.1 }
                    let from = sourceElement * size
                    for byte in 0..<size { target[element * size + byte] = source[from + byte] }
                    // Advance the multi-index, last axis fastest.
                    var axis = shape.count - 1
                    while axis >= 0 {
                        index[axis] += 1
                        if index[axis] < shape[axis] { break }
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
        return HostTensor(dtype: dtype, shape: shape, bytes: output)
    }
}
