import FishServer
import FishServices
import FishTestSupport
import Foundation
import Prometheus
import Synchronization
import Testing

/// The served drift window keeps at most its capacity however many answers arrive, starts over
/// for a new version, says nothing for a version without a reference, and raises `drift_raised`
/// once when its verdict turns to drift.
@Suite(.enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"))
struct DriftWindowTests {
    /// Writes a reference on two axes of the 1280-wide embedding into `model`'s package.
    func writeReference(for model: LoadedModel) throws {
        let width = 1280
        let axes = (0..<2).map { axis in (0..<width).map { Float($0 == axis ? 1 : 0) } }
        let sample: [[Double]] = (0..<200).map { (index: Int) -> [Double] in
            let first = Double(index % 20) / 10 - 1
            let second = Double(index % 7) / 3.5 - 1
            return [first, second]
        }
        let reference = DriftReference(
            dimension: width, mean: [Float](repeating: 0, count: width), components: axes, scales: [1, 1],
            sample: sample, classNames: model.classNames, classShares: [Double](repeating: 0.001, count: 1000),
            meanConfidence: 0.5, testImages: 200)
        let encoder = JSONEncoder()
        try encoder.encode(reference).write(to: model.packageDirectory.appendingPathComponent(DriftReference.fileName))
    }

    @Test func hundredThousandAnswersStayWithinTheWindow() throws {
        let context = try ServiceContext(config: FishConfig(home: try Fixtures.temporaryDirectory(), threads: 1))
        _ = try WeightsService(context: context).importImageNetWeights(path: Fixtures.weights.path)
        let model = try ClassificationService(context: context).loadModel()
        let window = DriftWindow(interval: .seconds(3600), registry: PrometheusCollectorRegistry())
        window.reset(for: model)
        #expect(window.status == nil, "the ImageNet base model carries no reference")
        try writeReference(for: model)
        let width = 1280
        window.reset(for: model)
        #expect(window.status?.waitingFor == DriftCheck.minimumImages)
        var embedding = [Float](repeating: 0, count: width)
        for index in 0..<100_000 {
            embedding[0] = Float(index % 13) / 6.5 - 1
            window.record(embedding: embedding[...], top: index % 1000, confidence: 0.5, model: model)
        }
        #expect(window.count == DriftWindow.capacity)
        // A new version (here: the same one loaded again) starts an empty window.
        window.reset(for: model)
        #expect(window.count == 0)
    }

    @Test func aCheckThatTurnsToDriftRaisesTheHookEventOnce() throws {
        let context = try ServiceContext(config: FishConfig(home: try Fixtures.temporaryDirectory(), threads: 1))
        _ = try WeightsService(context: context).importImageNetWeights(path: Fixtures.weights.path)
        try HookService(context: context).add(name: "drift", events: ["drift_raised"], exec: "true", post: nil)
        let model = try ClassificationService(context: context).loadModel()
        try writeReference(for: model)
        let raised = Mutex<[Int]>([])
        let window = DriftWindow(interval: .zero, registry: PrometheusCollectorRegistry()) { version, check in
            raised.withLock { $0.append(version) }
            HookService(context: context).driftRaised(model: model.name, alias: "production", version: version, check: check)
        }
        window.reset(for: model)
        // Every answer far from the reference's sample, on the first axis.
        var embedding = [Float](repeating: 0, count: 1280)
        embedding[0] = 6
        let deadline = Date().addingTimeInterval(30)
        var recorded = 0
        while raised.withLock({ $0.isEmpty }) && Date() < deadline {
            window.record(embedding: embedding[...], top: recorded % 1000, confidence: 0.5, model: model)
            recorded += 1
            if recorded >= DriftCheck.minimumImages { Thread.sleep(forTimeInterval: 0.01) }
        }
        #expect(raised.withLock { $0 } == [model.version])
        // Further checks that still find drift raise nothing more.
        for index in 0..<200 {
            window.record(embedding: embedding[...], top: index % 1000, confidence: 0.5, model: model)
            Thread.sleep(forTimeInterval: 0.005)
        }
        Thread.sleep(forTimeInterval: 0.5)
        #expect(window.status?.check?.verdict == .drift)
        #expect(raised.withLock { $0 }.count == 1)
        #expect(try HookService(context: context).pending() == 1)
    }
}
