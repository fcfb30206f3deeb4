import FishNeural
import FishServices
import FishTestSupport
import Foundation
import Testing

@Suite struct WeightsServiceTests {
    func config() throws -> FishConfig {
        FishConfig(home: try Fixtures.temporaryDirectory(), threads: 2)
    }

    /// Everything under `directory`, hidden entries included.
    func tree(_ directory: URL) -> [String] {
        (FileManager.default.enumerator(atPath: directory.path)?.allObjects as? [String] ?? []).sorted()
    }

    @Test(.enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"))
    func importWritesAPackageOnceAndItLoads() throws {
        let config = try config()
        let service = WeightsService(config: config)
        let first = try service.importImageNetWeights(path: Fixtures.weights.path)
        #expect(first.created && first.name == "imagenet-lite0" && first.version == 1)
        #expect(first.sourceSha256 == "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db")
        let again = try service.importImageNetWeights(path: Fixtures.weights.path)
        #expect(!again.created && again.version == 1)
        #expect(ModelLibrary(config: config).versions(of: "imagenet-lite0") == [1])

        let package = try ModelLibrary(config: config).package(named: "imagenet-lite0")
        #expect(package.metadata.classNames.count == 1000)
        #expect(package.metadata.classNames[967] == "espresso")
        #expect(package.metadata.architecture == "efficientnet-lite0")
        #expect(package.metadata.preprocessing == .efficientNetLite)
        let model = try ClassificationService(config: config).loadModel()
        #expect(model.version == 1 && model.engine.classes == 1000)
    }

    @Test(.enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"))
    func truncatedCheckpointLeavesNothingBehind() throws {
        let config = try config()
        let bytes = try Data(contentsOf: Fixtures.weights)
        let cut = try Fixtures.file(named: "cut.pth", contents: bytes.prefix(bytes.count - 1000))
        #expect(throws: NeuralError.self) { _ = try WeightsService(config: config).importImageNetWeights(path: cut) }
        #expect(tree(config.home).isEmpty)
    }

    @Test func foreignFileIsRefusedCleanly() throws {
        let config = try config()
        let path = try Fixtures.file(named: "model.pth", contents: Data(repeating: 0x42, count: 4096))
        #expect {
            _ = try WeightsService(config: config).importImageNetWeights(path: path)
        } throws: { error in
            "\(error)".contains("not a PyTorch checkpoint")
        }
        #expect(tree(config.home).isEmpty)
    }

    @Test(.enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"))
    func tamperedPackageIsDetected() throws {
        let config = try config()
        let result = try WeightsService(config: config).importImageNetWeights(path: Fixtures.weights.path)
        let weights = URL(fileURLWithPath: result.directory).appendingPathComponent(ModelPackage.weightsFile)
        var bytes = try Data(contentsOf: weights)
        bytes[bytes.count - 1] ^= 0xFF
        try bytes.write(to: weights)
        #expect {
            _ = try ClassificationService(config: config).loadModel()
        } throws: { error in
            "\(error)".contains("does not match its sha256")
        }
    }

    @Test func missingModelSaysHowToGetIt() throws {
        #expect {
            _ = try ClassificationService(config: try config()).loadModel()
        } throws: { error in
            "\(error)".contains("make setup")
        }
    }
}
