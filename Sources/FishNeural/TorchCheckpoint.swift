import Foundation
import ZIPFoundation

/// Reads PyTorch `state_dict` checkpoints natively: the legacy serialization (a pickle stream
/// with persistent storage ids followed by the raw storages) and the zip-based format.
/// Nothing in the file is executed: the pickle is interpreted symbolically.
enum TorchCheckpoint {
    /// The pickle that starts every legacy checkpoint: PROTO 2, LONG1 of the 10-byte magic number.
    static let legacyMagic: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]

    /// A tensor whose storage is not yet loaded.
    struct TensorReference {
        let storageKey: String
        let dtype: TensorDType
        let offset: Int
        let shape: [Int]
        let strides: [Int]
    }

    static func isLegacy(_ bytes: [UInt8]) -> Bool { bytes.starts(with: legacyMagic) }
    static func isZip(_ bytes: [UInt8]) -> Bool { bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) }

    /// Reads a legacy-format checkpoint.
    static func readLegacy(_ bytes: [UInt8], path: String) throws(NeuralError) -> [String: HostTensor] {
        do {
            var unpickler = Unpickler(bytes: bytes, position: legacyMagic.count, reduce: construct)
            guard try unpickler.load().int == 1001 else { throw malformed(path, "unknown protocol version") }
            let systemInfo = try unpickler.load()
            if case let .dict(info) = systemInfo, case let .bool(little)? = info["little_endian"], !little {
                throw malformed(path, "big-endian checkpoints are not supported")
            }
            let references = try stateDict(try unpickler.load(), path: path)
            guard let keys = try unpickler.load().tuple?.compactMap(\.string) else { throw malformed(path, "no storage list") }

            var storages: [String: ArraySlice<UInt8>] = [:]
            var position = unpickler.position
            let elementSizes = Dictionary(references.values.map { ($0.storageKey, $0.dtype.size) }, uniquingKeysWith: max)
            for key in keys {
                guard position + 8 <= bytes.count else { throw malformed(path, "storage \(key) is cut off") }
                let count = bytes[position..<(position + 8)].reversed().reduce(0) { $0 << 8 | Int($1) }
                let (length, overflow) = count.multipliedReportingOverflow(by: elementSizes[key] ?? 4)
                position += 8
                guard count >= 0, !overflow, length <= bytes.count - position else {
                    throw malformed(path, "storage \(key) is cut off")
                }
                storages[key] = bytes[position..<(position + length)]
                position += length
            }
            return try materialise(references, storages: storages, path: path)
        } catch let error as NeuralError {
            throw error
        } catch {
            throw malformed(path, "\(error)")
        }
    }

    /// Reads a zip-format checkpoint (`<name>/data.pkl` plus one `<name>/data/<key>` per storage).
    static func readZip(_ data: Data, path: String) throws(NeuralError) -> [String: HostTensor] {
        // ZIPFoundation's in-memory archives leak their copy of the data when the archive is
        // malformed (the stream is never closed), so the archive is read from a file.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fishops-zip-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        do {
            try data.write(to: file)
            let archive = try Archive(url: file, accessMode: .read)
            guard let pickleEntry = archive.first(where: { $0.path.hasSuffix("data.pkl") }) else {
                throw malformed(path, "zip archive without data.pkl: not a PyTorch checkpoint")
            }
            let prefix = String(pickleEntry.path.dropLast("data.pkl".count))
            // PyTorch stores its entries uncompressed, and tensors compress poorly: what the archive
            // holds cannot honestly unpack to much more than the file, so a zip bomb stops early.
            var budget = 2 * data.count + 16 * 1024 * 1024
            if let order = archive[prefix + "byteorder"],
                try String(decoding: contents(of: order, in: archive, budget: &budget), as: UTF8.self) != "little"
            {
                throw malformed(path, "big-endian checkpoints are not supported")
            }
            var unpickler = Unpickler(bytes: try contents(of: pickleEntry, in: archive, budget: &budget), reduce: construct)
            let references = try stateDict(try unpickler.load(), path: path)
            var storages: [String: ArraySlice<UInt8>] = [:]
            for key in Set(references.values.map(\.storageKey)) {
                guard let entry = archive[prefix + "data/" + key] else { throw malformed(path, "storage \(key) is missing") }
                storages[key] = try contents(of: entry, in: archive, budget: &budget)[...]
            }
            return try materialise(references, storages: storages, path: path)
        } catch let error as NeuralError {
            throw error
        } catch {
            throw malformed(path, "\(error)")
        }
    }

    /// The entry's bytes, taken from `budget`; an entry that unpacks past the budget is refused.
    private static func contents(of entry: Entry, in archive: Archive, budget: inout Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(Int(clamping: entry.uncompressedSize), budget))
        var remaining = budget
        _ = try archive.extract(entry) { chunk in
            guard chunk.count <= remaining else {
                throw Unpickler.Failure.malformed("\(entry.path) unpacks to far more than the archive holds")
            }
            remaining -= chunk.count
            bytes.append(contentsOf: chunk)
        }
        budget = remaining
        return bytes
    }

    private static func malformed(_ path: String, _ reason: String) -> NeuralError {
        .malformed(path: path, format: "PyTorch checkpoint", reason: reason)
    }

    /// Builds the two calls a state dict needs: `collections.OrderedDict()` becomes a dict, and
    /// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)` a tensor reference.
    /// Any other call stays symbolic.
    static func construct(function: PickleValue, arguments: PickleValue) throws -> PickleValue? {
        if case let .global(module, name) = function, module == "collections", name == "OrderedDict" {
            return .dict(PickleDict())
        }
        guard case let .global(module, name) = function, module == "torch._utils",
            name == "_rebuild_tensor_v2" || name == "_rebuild_tensor",
            let args = arguments.tuple, args.count >= 4,
            case let .persistent(id) = args[0], let idFields = id.tuple, idFields.count >= 3,
            idFields[0].string == "storage", case let .global(_, storageType) = idFields[1],
            let key = idFields[2].string,
            let offset = args[1].int,
            let shape = args[2].tuple?.compactMap(\.int), let strides = args[3].tuple?.compactMap(\.int)
        else { return nil }
        guard let dtype = dtypes[storageType] else {
            throw Unpickler.Failure.malformed("unsupported storage type \(storageType)")
        }
        return .call(
            function: .string("tensor"),
            arguments: .tuple([
                .string(key), .string(dtype.rawValue), .int(offset),
                .tuple(shape.map { .int($0) }), .tuple(strides.map { .int($0) }),
            ]))
    }

    private static let dtypes: [String: TensorDType] = [
        "FloatStorage": .f32, "DoubleStorage": .f64, "HalfStorage": .f16, "BFloat16Storage": .bf16,
        "LongStorage": .i64, "IntStorage": .i32, "ShortStorage": .i16, "CharStorage": .i8,
        "ByteStorage": .u8, "BoolStorage": .bool,
    ]

    /// The tensor references of a state dict, also when it is wrapped as `{"state_dict": ...}`.
    private static func stateDict(_ root: PickleValue, path: String) throws(NeuralError) -> [String: TensorReference] {
        guard case let .dict(dict) = root else { throw malformed(path, "the pickle does not hold a dict of tensors") }
        for wrapper in ["state_dict", "model"] {
            if let inner = dict[wrapper], case let .dict(innerDict) = inner { return try stateDict(.dict(innerDict), path: path) }
        }
        var references: [String: TensorReference] = [:]
        for (key, value) in dict.entries {
            guard let name = key.string else { continue }
            guard case let .call(function, arguments) = value, function.string == "tensor", let fields = arguments.tuple,
                fields.count == 5,
                let storageKey = fields[0].string, let dtype = fields[1].string.flatMap(TensorDType.init(rawValue:)),
                let offset = fields[2].int, let shape = fields[3].tuple?.compactMap(\.int),
                let strides = fields[4].tuple?.compactMap(\.int)
            else { throw malformed(path, "entry \(name) is not a tensor") }
            references[name] = TensorReference(
                storageKey: storageKey, dtype: dtype, offset: offset, shape: shape, strides: strides)
        }
        return references
    }

    private static func materialise(
        _ references: [String: TensorReference], storages: [String: ArraySlice<UInt8>], path: String
    ) throws(NeuralError) -> [String: HostTensor] {
        var tensors: [String: HostTensor] = [:]
        for (name, reference) in references {
            guard let storage = storages[reference.storageKey],
                let tensor = HostTensor.gather(
                    storage: storage, dtype: reference.dtype, offset: reference.offset,
                    shape: reference.shape, strides: reference.strides)
            else { throw malformed(path, "tensor \(name) lies outside its storage") }
            tensors[name] = tensor
        }
        return tensors
    }
}
