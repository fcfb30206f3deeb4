import FishRecords
import FishStore
import FishTestSupport
import Foundation
import Testing

@Suite struct TrackingTests {
    func store() throws -> Store { try Store(directory: try Fixtures.temporaryDirectory()) }

    @Test func bestAndLastFollowTheMetricDirection() throws {
        let store = try store()
        let run = try store.startRun(experiment: "fish", user: "ana", host: "h1")
        try store.logMetrics(
            run.id,
            [
                MetricPoint(key: "val_loss", value: 0.9, step: 1), MetricPoint(key: "val_loss", value: 0.4, step: 2),
                MetricPoint(key: "val_loss", value: 0.6, step: 3), MetricPoint(key: "accuracy", value: 0.7, step: 1),
            ])
        try store.logMetrics(
            run.id, [MetricPoint(key: "accuracy", value: 0.9, step: 2), MetricPoint(key: "accuracy", value: 0.8, step: 3)])
        let detail = try store.run(String(run.id.prefix(6)))
        let loss = try #require(detail.metrics.first { $0.key == "val_loss" })
        #expect(loss.direction == .min && loss.bestValue == 0.4 && loss.bestStep == 2 && loss.lastValue == 0.6 && loss.count == 3)
        let accuracy = try #require(detail.metrics.first { $0.key == "accuracy" })
        #expect(accuracy.direction == .max && accuracy.bestValue == 0.9 && accuracy.lastValue == 0.8)
        #expect(try store.metricHistory(run.id, key: "val_loss").map(\.value) == [0.9, 0.4, 0.6])
    }

    @Test func declaredDirectionWins() throws {
        let store = try store()
        try store.declareMetric("score", direction: .min)
        let run = try store.startRun(experiment: "fish", user: "ana", host: "h1")
        try store.logMetrics(
            run.id, [MetricPoint(key: "score", value: 3, step: 0), MetricPoint(key: "score", value: 1, step: 1)])
        #expect(try store.run(run.id).metrics.first?.bestValue == 1)
    }

    @Test func paramsKeepTheirFirstValue() throws {
        let store = try store()
        let run = try store.startRun(experiment: "fish", user: "ana", host: "h1")
        try store.logParams(run.id, ["lr": "0.01", "seed": "7"])
        try store.logParams(run.id, ["lr": "0.01"])
        #expect(throws: StoreError.self) { try store.logParams(run.id, ["lr": "0.1"]) }
        try store.setTags(run.id, ["note": "a"])
        try store.setTags(run.id, ["note": "b"])
        let detail = try store.run(run.id)
        #expect(detail.params == ["lr": "0.01", "seed": "7"] && detail.tags == ["note": "b"])
    }

    @Test func badValuesAndUnknownRunsAreRefused() throws {
        let store = try store()
        let run = try store.startRun(experiment: "fish", user: "ana", host: "h1")
        #expect(throws: StoreError.self) { try store.logMetrics(run.id, [MetricPoint(key: "loss", value: .nan, step: 0)]) }
        #expect(throws: StoreError.self) { try store.logMetrics("nope", [MetricPoint(key: "loss", value: 1, step: 0)]) }
        #expect(throws: StoreError.self) { try store.endRun(run.id, status: .running) }
        #expect(throws: StoreError.self) { _ = try store.run("zzzz") }
        try store.endRun(run.id, status: .finished)
        #expect(try store.run(run.id).run.status == .finished)
    }

    @Test func runsListNewestFirstWithSummaries() throws {
        let store = try store()
        let first = try store.startRun(experiment: "a", user: "u", host: "h")
        let second = try store.startRun(experiment: "b", runName: "second", parent: first.id, user: "u", host: "h")
        try store.logMetrics(second.id, [MetricPoint(key: "accuracy", value: 0.5, step: 0)])
        let runs = try store.runs()
        #expect(runs.map(\.run.id) == [second.id, first.id])
        #expect(runs[0].metrics.map(\.key) == ["accuracy"] && runs[0].run.parentRunId == first.id)
        #expect(try store.runs(experiment: "a").map(\.run.id) == [first.id])
    }

    @Test func artifactsAreStoredOnceByContent() throws {
        let store = try store()
        let run = try store.startRun(experiment: "fish", user: "u", host: "h")
        let a = try store.logArtifact(run.id, path: "confusion.json", data: Data("[[1]]".utf8))
        let b = try store.logArtifact(run.id, path: "copy.json", data: Data("[[1]]".utf8))
        #expect(a.sha256 == b.sha256)
        #expect(try store.artifacts.get(a.sha256) == Data("[[1]]".utf8))
        let objects =
            FileManager.default.enumerator(atPath: store.artifacts.root.appendingPathComponent("objects").path)?
            .allObjects.compactMap { $0 as? String }.filter { $0.count > 3 } ?? []
        #expect(objects.count == 1)
        #expect(try store.run(run.id).artifacts.map(\.path) == ["confusion.json", "copy.json"])
    }
}
