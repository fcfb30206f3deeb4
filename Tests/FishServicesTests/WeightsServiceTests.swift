import FishImaging
import FishNeural
import FishServices
import FishStore
import FishTestSupport
import Foundation
import Testing

@Suite struct WeightsServiceTests {
    func context() throws -> ServiceContext {
        try ServiceContext(config: FishConfig(home: try Fixtures.temporaryDirectory(), threads: 2))
    }

    /// Files under `directory` other than the (always present) store files and artifact folder.
    func packageFiles(_ directory: URL) -> [String] {
        tree(directory).filter { !$0.hasPrefix("store.") && !$0.hasPrefix("artifacts") }
    }

    /// Everything under `directory`, hidden entries included.
    func tree(_ directory: URL) -> [String] {
        (FileManager.default.enumerator(atPath: directory.path)?.allObjects as? [String] ?? []).sorted()
    }

    @Test(.enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"))
    func importWritesAPackageOnceAndItLoads() throws {
        let context = try context()
        let service = WeightsService(context: context)
        let first = try service.importImageNetWeights(path: Fixtures.weights.path)
        #expect(first.created && first.name == "imagenet-lite0" && first.version == 1)
        #expect(first.sourceSha256 == "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db")
        let again = try service.importImageNetWeights(path: Fixtures.weights.path)
        #expect(!again.created && again.version == 1)
        #expect(try context.store.versions(model: "imagenet-lite0").map(\.version) == [1])
        #expect(try context.store.auditLog(model: "imagenet-lite0").map(\.action) == [.registerVersion])

        let package = try RegistryService(context: context).resolve(model: "imagenet-lite0").package
        #expect(package.metadata.classNames.count == 1000)
        #expect(package.metadata.classNames[967] == "espresso")
        #expect(package.metadata.architecture == "efficientnet-lite0")
        #expect(package.metadata.preprocessing == .efficientNetLite)
        let model = try ClassificationService(context: context).loadModel()
        #expect(model.version == 1 && model.engine.classes == 1000)
    }

    @Test(.enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"))
    func truncatedCheckpointLeavesNothingBehind() throws {
        let context = try context()
        let bytes = try Data(contentsOf: Fixtures.weights)
        let cut = try Fixtures.file(named: "cut.pth", contents: bytes.prefix(bytes.count - 1000))
        #expect(throws: NeuralError.self) { _ = try WeightsService(context: context).importImageNetWeights(path: cut) }
        #expect(packageFiles(context.config.home).isEmpty)
        #expect(try context.store.models().isEmpty)
    }

    @Test func foreignFileIsRefusedCleanly() throws {
        let context = try context()
        let path = try Fixtures.file(named: "model.pth", contents: Data(repeating: 0x42, count: 4096))
        #expect {
            _ = try WeightsService(context: context).importImageNetWeights(path: path)
        } throws: { error in
            "\(error)".contains("not a PyTorch checkpoint")
        }
        #expect(packageFiles(context.config.home).isEmpty)
    }

    @Test(.enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"))
    func tamperedPackageIsDetected() throws {
        let context = try context()
        let result = try WeightsService(context: context).importImageNetWeights(path: Fixtures.weights.path)
        let weights = URL(fileURLWithPath: result.directory).appendingPathComponent(ModelPackage.weightsFile)
        var bytes = try Data(contentsOf: weights)
        bytes[bytes.count - 1] ^= 0xFF
        try bytes.write(to: weights)
        #expect {
            _ = try ClassificationService(context: context).loadModel()
        } throws: { error in
            "\(error)".contains("does not match its sha256")
        }
    }

    @Test func missingModelSaysHowToGetIt() throws {
        #expect {
            _ = try ClassificationService(context: try context()).loadModel()
        } throws: { error in
            "\(error)".contains("make setup")
        }
    }
}
