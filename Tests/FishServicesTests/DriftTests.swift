import FishNeural
import FishServices
import FishTestSupport
import Foundation
import Testing

/// The drift tests on known distributions, and on real photos: a model trained on most of
/// large-scale-fish sees drift in underwater video and none in its own held-out photos.
@Suite struct DriftStatisticsTests {
    /// `count` points of a `dimension`-dimensional normal shifted by `shift` along the first axis.
    static func normal(_ count: Int, dimension: Int = 10, shift: Double = 0, seed: UInt64) -> [[Double]] {
        var random = SeededRandom(seed: seed)
        return (0..<count).map { _ in
            (0..<dimension).map { axis in
                let (u, v) = (Double.random(in: Double.ulpOfOne..<1, using: &random), Double.random(in: 0..<1, using: &random))
                return sqrt(-2 * log(u)) * cos(2 * .pi * v) + (axis == 0 ? shift : 0)
            }
        }
    }

    static func reference(_ sample: [[Double]]) -> DriftReference {
        DriftReference(
            dimension: 10, mean: [Float](repeating: 0, count: 10), components: [], scales: [Double](repeating: 1, count: 10),
            sample: sample, classNames: ["a", "b"], classShares: [0.5, 0.5], meanConfidence: 0.9, testImages: 100)
    }

    @Test func sameDistributionsRarelyAlarmAndShiftedOnesAlways() {
        var alarms = 0
        for seed in 0..<20 {
            let check = DriftCheck.run(
                Self.reference(Self.normal(400, seed: 1000 + UInt64(seed))), projections: Self.normal(100, seed: UInt64(seed)),
                topClasses: (0..<100).map { $0 % 2 }, confidences: [Double](repeating: 0.9, count: 100), seed: UInt64(seed))
            if check.verdict == .drift { alarms += 1 }
        }
        #expect(alarms <= 1, "\(alarms) of 20 same-distribution checks said drift")
        let shifted = DriftCheck.run(
            Self.reference(Self.normal(400, seed: 7)), projections: Self.normal(100, shift: 1, seed: 8),
            topClasses: (0..<100).map { $0 % 2 }, confidences: [Double](repeating: 0.9, count: 100))
        #expect(
            shifted.verdict == .drift && shifted.mmdPValue <= DriftCheck.driftLevel && shifted.ksPValue <= DriftCheck.driftLevel)
    }

    @Test func classMixAndConfidenceAloneRaiseTheirOwnFlags() {
        let sample = Self.normal(300, seed: 3)
        let oneClass = DriftCheck.run(
            Self.reference(sample), projections: Self.normal(100, seed: 4), topClasses: [Int](repeating: 0, count: 100),
            confidences: [Double](repeating: 0.9, count: 100))
        #expect(oneClass.verdict == .drift && oneClass.classMixPValue <= DriftCheck.driftLevel && oneClass.classMixPsi > 1)
        let unsure = DriftCheck.run(
            Self.reference(sample), projections: Self.normal(100, seed: 5), topClasses: (0..<100).map { $0 % 2 },
            confidences: [Double](repeating: 0.75, count: 100))
        #expect(unsure.verdict == .warning && unsure.reasons.contains { $0.contains("confidence") })
        let few = DriftCheck.run(Self.reference(sample), projections: Self.normal(10, seed: 6), topClasses: [], confidences: [])
        #expect(few.verdict == .insufficient)
    }

    @Test func classMixPValuesMatchTheChiSquareDistribution() {
        let sample = Self.normal(300, seed: 3)
        // Two classes, 60 against 40 where 50/50 is expected: chi-square 4 at one degree of freedom, p 0.0455.
        let two = DriftCheck.run(
            Self.reference(sample), projections: Self.normal(100, seed: 4), topClasses: (0..<100).map { $0 < 60 ? 0 : 1 },
            confidences: [Double](repeating: 0.9, count: 100))
        #expect(abs(two.classMixChiSquare - 4) < 1e-9 && abs(two.classMixPValue - 0.0455) < 0.0005)
        #expect(two.verdict == .warning)
        // Three equal classes seen 50, 30 and 20 times: chi-square 14 at two degrees, p = e^-7.
        var three = Self.reference(sample)
        three.classNames = ["a", "b", "c"]
        three.classShares = [1.0 / 3, 1.0 / 3, 1.0 / 3]
        let check = DriftCheck.run(
            three, projections: Self.normal(100, seed: 5), topClasses: (0..<100).map { $0 < 50 ? 0 : $0 < 80 ? 1 : 2 },
            confidences: [Double](repeating: 0.9, count: 100))
        #expect(abs(check.classMixChiSquare - 14) < 1e-9 && abs(check.classMixPValue - exp(-7)) < 1e-6)
    }

    @Test func statsWithADriftCheckSurviveTheirJSON() throws {
        let check = DriftCheck.run(
            Self.reference(Self.normal(300, seed: 9)), projections: Self.normal(100, shift: 2, seed: 10),
            topClasses: (0..<100).map { $0 % 2 }, confidences: [Double](repeating: 0.8, count: 100))
        let window = ServerStats.Window(
            seconds: 60, requests: 3, answered: 2, errors: [.init(kind: "corrupt_image", count: 1)], rejections: [],
            requestsPerSecond: 0.05, latencyMs: .init(p50: 1, p95: 2, p99: 3))
        let stats = ServerStats(
            model: "fish", alias: "production", version: 2, startedAt: Date(timeIntervalSince1970: 1_800_000_000),
            at: Date(timeIntervalSince1970: 1_800_000_060), lastMinute: window, lastQuarterHour: window, queueDepth: 1,
            batches: .init(count: 2, meanSize: 1.5, sizes: [.init(size: 1, count: 1), .init(size: 2, count: 1)]),
            cache: .init(entries: 1, hits: 1, misses: 2),
            recent: .init(
                answers: 2, classMix: [.init(label: "Sea Bass, striped", share: 1)], meanConfidence: 0.8,
                confidenceHistogram: [0, 0, 0, 0, 0, 0, 0, 0, 2, 0], lowConfidenceThreshold: 0.5, lowConfidence: []),
            series: .init(stepSeconds: 10, requestsPerSecond: [0, 0.3], p95Ms: [nil, 2]),
            drift: .init(version: 2, checkedAt: Date(timeIntervalSince1970: 1_800_000_050), check: check))
        let json = try ServerStats.encoder().encode(stats)
        #expect(try ServerStats.decoder().decode(ServerStats.self, from: json) == stats)
        #expect(String(decoding: json, as: UTF8.self).contains("\"last_quarter_hour\""))
    }

    @Test func referenceComponentsFollowTheVariance() {
        // Embeddings of width 6 that vary mostly along (1, 1, 0, 0, 0, 0) / √2.
        var random = SeededRandom(seed: 11)
        let rows = (0..<500).map { _ -> [Float] in
            let main = Float.random(in: -10...10, using: &random)
            return [main, main] + (0..<4).map { _ in Float.random(in: -0.5...0.5, using: &random) }
        }
        let reference = DriftReference.build(
            embeddings: rows.flatMap { $0 }, dimension: 6, testProbabilities: [0.9, 0.1, 0.2, 0.8],
            classNames: ["a", "b"], seed: 0)
        let first = reference.components[0].map(Double.init)
        #expect(abs(abs(first[0]) - 0.7071) < 0.01 && abs(abs(first[1]) - 0.7071) < 0.01)
        #expect(reference.classShares == [0.5, 0.5] && abs(reference.meanConfidence - 0.85) < 1e-9)
        #expect(reference.sample.count == 500 && reference.components.count == 6, "no more components than dimensions")
        // The sample's coordinates are standardised.
        let column = reference.sample.map { $0[0] }
        #expect(abs(sqrt(column.reduce(0) { $0 + $1 * $1 } / 499) - 1) < 1e-6)
    }
}

@Suite(.enabled(if: canTrain, "needs the pretrained weights (make setup) and ../shared/datasets"))
struct DriftOnPhotosTests {
    @Test func underwaterVideoDriftsAndHeldOutHalvesDoNot() throws {
        let context = try ServiceContext(config: FishConfig(home: try Fixtures.temporaryDirectory(), threads: 2))
        _ = try WeightsService(context: context).importImageNetWeights(path: Fixtures.weights.path)
        let data = Fixtures.shared.appendingPathComponent("datasets/large-scale-fish")
        // Seven photos in ten of each species train the model; the other three are held out.
        var trained: [String] = []
        var heldOut: [String] = []
        for species in try FileManager.default.contentsOfDirectory(atPath: data.path).sorted()
        where !species.hasSuffix(".md") && !species.hasSuffix(".csv") {
            let files = try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent(species).path).sorted()
            for (index, file) in files.enumerated() {
                if index % 10 < 7 {
                    trained.append("\(species)/\(file),\(species)")
                } else {
                    heldOut.append(data.appendingPathComponent("\(species)/\(file)").path)
                }
            }
        }
        var spec = TrainingSpec(data: data.path)
        spec.manifest = try Fixtures.file(named: "train.csv", contents: Data(trained.joined(separator: "\n").utf8))
        spec.model = "fish"
        let report = try TrainingService(context: context).train(spec)

        let underwater = try DriftService(context: context).check(
            model: "fish", version: report.model.version,
            paths: [Fixtures.shared.appendingPathComponent("datasets/fish4knowledge").path])
        #expect(underwater.check.verdict == .drift, "\(underwater.check)")

        let classification = ClassificationService(context: context)
        let model = try classification.loadModel(name: "fish", version: report.model.version)
        let reference = try DriftService.reference(of: model)
        var rows: [(projection: [Double], top: Int, confidence: Double)] = []
        classification.classify(files: heldOut, model: model, top: 1, embeddings: true) { result in
            guard case let .success(top) = result.outcome, let embedding = result.embedding else { return }
            rows.append((reference.project(embedding[...]), top[0].index, top[0].probability))
        }
        #expect(rows.count == heldOut.count)
        var alarms: [DriftCheck] = []
        for seed in 0..<20 {
            var random = SeededRandom(seed: UInt64(seed))
            let half = Array(rows.shuffled(using: &random).prefix(rows.count / 2))
            let check = DriftCheck.run(
                reference, projections: half.map(\.projection), topClasses: half.map(\.top),
                confidences: half.map(\.confidence), seed: UInt64(seed))
            if check.verdict == .drift { alarms.append(check) }
        }
        #expect(alarms.count <= 1, "\(alarms.count) of 20 held-out halves said drift: \(alarms.map(\.reasons))")
    }
}
