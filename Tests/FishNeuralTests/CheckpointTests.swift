import FishNeural
import FishTestSupport
import Foundation
import Testing

/// Writes a small checkpoint in `format` with the Python fixture script (no PyTorch needed).
func fixtureCheckpoint(_ format: String) throws -> String {
    let output = try Fixtures.temporaryDirectory().appendingPathComponent("\(format).pt").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
        "python3", Fixtures.root.appendingPathComponent("Tests/Fixtures/torch_checkpoints.py").path, format, output,
    ]
    try process.run()
    process.waitUntilExit()
    try #require(process.terminationStatus == 0, "python3 could not write the \(format) fixture")
    return output
}

let pythonAvailable =
    FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
    || FileManager.default.isExecutableFile(atPath: "/usr/local/bin/python3")
    || ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").contains {
        FileManager.default.isExecutableFile(atPath: "\($0)/python3")
    } == true

@Suite struct CheckpointTests {
    @Test(.enabled(if: pythonAvailable, "needs python3 to write PyTorch-format fixtures"), arguments: ["legacy", "zip"])
    func readsStridedTensors(format: String) throws {
        let tensors = try CheckpointReader.read(path: try fixtureCheckpoint(format))
        #expect(Set(tensors.keys) == ["a.weight", "a.bias", "a.num_batches_tracked"])
        let weight = try #require(tensors["a.weight"])
        #expect(weight.shape == [2, 3])
        #expect(try weight.floats(name: "a.weight") == [0, 1, 2, 3, 4, 5])
        #expect(try tensors["a.bias"]?.floats(name: "a.bias") == [0.5, -1.5, 2.25])
        let steps = try #require(tensors["a.num_batches_tracked"])
        #expect(steps.dtype == .i64 && steps.shape == [] && steps.bytes == [7, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test(.enabled(if: pythonAvailable, "needs python3 to write PyTorch-format fixtures"), arguments: ["legacy", "zip"])
    func foreignCheckpointIsNotEfficientNet(format: String) throws {
        let tensors = try CheckpointReader.read(path: try fixtureCheckpoint(format))
        #expect(throws: NeuralError.missingTensor(name: "_fc.weight")) { _ = try EfficientNetLite.validate(tensors) }
    }

    @Test(.enabled(if: pythonAvailable, "needs python3 to write PyTorch-format fixtures"), arguments: ["legacy", "zip"])
    func truncatedCheckpointsAreRefused(format: String) throws {
        let path = try fixtureCheckpoint(format)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        for length in [20, bytes.count / 2, bytes.count - 3] {
            let cut = try Fixtures.file(named: "cut.pt", contents: bytes.prefix(length))
            #expect(throws: NeuralError.self) { _ = try CheckpointReader.read(path: cut) }
        }
    }

    /// 100 KB of nested lists crashed the reader with a stack overflow when they were freed.
    @Test(.enabled(if: pythonAvailable, "needs python3 to write PyTorch-format fixtures"))
    func deeplyNestedPickleIsRefused() throws {
        let path = try fixtureCheckpoint("nested")
        #expect(
            throws: NeuralError.malformed(
                path: path, format: "PyTorch checkpoint", reason: "values nested deeper than 100 levels")
        ) {
            _ = try CheckpointReader.read(path: path)
        }
    }

    /// A 200 KB zip whose pickle deflates to 200 MB is refused before it is unpacked (a 3.6 MB one
    /// made the reader allocate 3.5 GB).
    @Test(.enabled(if: pythonAvailable, "needs python3 to write PyTorch-format fixtures"))
    func zipBombIsRefusedEarly() throws {
        let path = try fixtureCheckpoint("bomb")
        #expect(
            throws: NeuralError.malformed(
                path: path, format: "PyTorch checkpoint",
                reason: "checkpoint/data.pkl unpacks to far more than the archive holds")
        ) {
            _ = try CheckpointReader.read(path: path)
        }
    }

    /// NaN or infinity in a tensor is refused when its values are read (import and every load).
    @Test func nonFiniteValuesAreRefused() throws {
        for bad in [Float.nan, .infinity, -.infinity] {
            let tensor = HostTensor(shape: [3], values: [1, bad, 2])
            #expect(throws: NeuralError.nonFinite(name: "w")) { _ = try tensor.floats(name: "w") }
        }
    }

    @Test func foreignFilesAreRecognised() throws {
        let text = try Fixtures.file(named: "notes.pth", contents: Data("not weights at all".utf8))
        #expect(throws: NeuralError.unknownFormat(path: text)) { _ = try CheckpointReader.read(path: text) }
        let empty = try Fixtures.file(named: "empty.pth", contents: Data())
        #expect(throws: NeuralError.self) { _ = try CheckpointReader.read(path: empty) }
        #expect(throws: NeuralError.unreadableFile(path: "/nonexistent.pth", reason: "no such file")) {
            _ = try CheckpointReader.read(path: "/nonexistent.pth")
        }
    }

    @Test func safeTensorsRoundTrip() throws {
        let tensors = ["w": HostTensor(shape: [2, 2], values: [1, -2, 3.5, 4]), "b": HostTensor(shape: [1], values: [0.25])]
        let encoded = try SafeTensors.encode(tensors, metadata: ["format": "pt"])
        let header = encoded.prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
        #expect(header % 8 == 0)
        let decoded = try SafeTensors.decode(encoded, path: "x.safetensors")
        #expect(decoded.metadata == ["format": "pt"])
        #expect(try decoded.tensors["w"]?.floats(name: "w") == [1, -2, 3.5, 4])
        let path = try Fixtures.file(named: "w.safetensors", contents: encoded)
        #expect(try CheckpointReader.read(path: path)["b"]?.floats(name: "b") == [0.25])
        #expect(throws: NeuralError.self) { _ = try SafeTensors.decode(encoded.dropLast(2), path: "cut.safetensors") }
    }

    @Test func hostileSafeTensorsHeadersAreRefused() throws {
        for entry in [
            #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,9223372036854775807]}}"#,
            #"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#,
            #"{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#,
            #"{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}"#, "[1, 2]",
        ] {
            var data = Data()
            withUnsafeBytes(of: UInt64(entry.utf8.count).littleEndian) { data.append(contentsOf: $0) }
            data.append(contentsOf: Array(entry.utf8) + [UInt8](repeating: 0, count: 8))
            #expect(throws: NeuralError.self) { _ = try SafeTensors.decode(data, path: "hostile.safetensors") }
        }
    }

    @Test(.enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"))
    func pretrainedLegacyCheckpoint() throws {
        let tensors = try CheckpointReader.read(path: Fixtures.weights.path)
        #expect(tensors.count == 296)
        let (_, weights, classes) = try EfficientNetLite.validate(tensors)
        #expect(classes == 1000)
        #expect(weights.count == 296 - 49)  // BN step counters dropped
        #expect(weights["_blocks.15._project_conv.weight"]?.shape == [320, 1152, 1, 1])
    }
}
