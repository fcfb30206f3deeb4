import FishBenchmarks
import FishImaging
import FishNeural
import FishServices
import FishStore
import FishTestSupport
import Foundation
import Testing

/// The exported ONNX graph against our engine, run by ONNX Runtime and OpenVINO from pip.
@Suite(
    .enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"),
    .enabled(
        if: Fixtures.python.map { PeerRuntime(python: $0).isAvailable } ?? false,
        "needs Python with onnxruntime, onnx and numpy (make bench-setup)"))
struct ONNXExportTests {
    func context() throws -> ServiceContext {
        let context = try ServiceContext(config: FishConfig(home: try Fixtures.temporaryDirectory(), threads: 2))
        _ = try WeightsService(context: context).importImageNetWeights(path: Fixtures.weights.path)
        return context
    }

    @Test func exportPassesTheONNXChecker() throws {
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("model.onnx").path
        try ExportService.write(try ExportService(context: try context()).onnx(), to: path)
        let python = try #require(Fixtures.python)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            "-c",
            "import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); "
                + "print([o.name for o in m.graph.output])", path,
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(printed.contains("'logits', 'embedding'"))
    }

    /// Registers `fish` v1: a random head with a hidden layer on the imported base model.
    func registerRandomHead(_ context: ServiceContext) throws {
        let base = try ClassificationService(context: context).loadModel()
        var random = SeededRandom(seed: 1)
        var head = ClassifierHead(
            inputs: 1280, hidden: 16, classes: 3, inputMean: .init(repeating: 0.5, count: 1280),
            inputScale: .init(repeating: 2, count: 1280), random: &random)
        head.outputWeights = head.outputWeights.map { _ in Float(random.normal()) }
        var metadata = ModelPackage.Metadata(
            name: "fish", version: 1, architecture: "classifier-head", weightsSha256: "",
            preprocessing: base.metadata.preprocessing, classNames: ["a", "b", "c"],
            createdAt: Date(), source: "test", sourceSha256: nil)
        metadata.backbone = .init(model: base.name, version: base.version, weightsSha256: base.metadata.weightsSha256)
        _ = try context.store.registerVersion(model: "fish", actor: context.actor) { _ in
            let package = try ModelPackage.write(
                tensors: head.tensors, metadata: metadata,
                to: context.config.home.appendingPathComponent("models/fish/1"))
            return (package.metadata.weightsSha256, "models/fish/1")
        }
    }

    /// ONNX Runtime and OpenVINO (each where `make bench-setup` installed it) run the exported graph
    /// to our logits: Lite0, a head on it, and Lite2 (260 px) where its weights are fetched.
    @Test(
        .enabled(if: Fixtures.sharedAvailable, "needs ../shared/reference"),
        arguments: ["imagenet-lite0", "fish", "imagenet-lite2"], PeerRuntime.Kind.allCases)
    func peersReproduceOurLogits(modelName: String, kind: PeerRuntime.Kind) throws {
        let runtime = PeerRuntime(python: try #require(Fixtures.python), kind: kind)
        guard runtime.isAvailable else {
            print("skipped: \(kind.name) is not installed beside \(runtime.python) (make bench-setup)")
            return
        }
        let context = try context()
        try registerRandomHead(context)
        if modelName == "imagenet-lite2" {
            guard FileManager.default.fileExists(atPath: Fixtures.weights(lite: 2).path) else {
                print("skipped: no Lite2 checkpoint at \(Fixtures.weights(lite: 2).path) (make weights-lite2)")
                return
            }
            _ = try WeightsService(context: context).importImageNetWeights(path: Fixtures.weights(lite: 2).path)
        }
        let model = try ClassificationService(context: context).loadModel(name: modelName)
        let names = ["chelsea.png", "coffee.png", "flower.png", "rocket.png"]
        var input = [Float](repeating: 0, count: names.count * model.inputFloats)
        for (index, name) in names.enumerated() {
            let image = try FishImaging.ImageDecoder().decodeFile(
                atPath: Fixtures.shared.appendingPathComponent("reference/images/\(name)").path)
            input.withUnsafeMutableBufferPointer { all in
                model.metadata.preprocessing.writeTensor(
                    of: image,
                    into: UnsafeMutableBufferPointer(
                        rebasing: all[(index * model.inputFloats)..<((index + 1) * model.inputFloats)]))
            }
        }
        let ours = model.forward(input, count: names.count).logits
        let size = model.metadata.preprocessing.inputSize
        let session = try runtime.start(
            onnx: try ExportService(context: context).onnx(model: modelName),
            input: BenchmarkService.nchw(input, batch: names.count, size: size), batch: names.count,
            size: size, ourLogits: ours, threadCounts: [1])
        #expect(ours.count == names.count * model.classes)
        #expect(session.maxLogitDifference <= 1e-4, "max |logit difference| \(session.maxLogitDifference)")
        #expect(try session.singlePasses(threads: 1, count: 2).count == 2)
    }
}
