import Dispatch
public import FishServices
import FishStore
public import Foundation

/// Measures the tracking store: bulk metric logging, and listing many runs with their
/// best and last metric values. It writes into a store of its own, never the user's.
public struct StoreBenchmark: Sendable {
    public struct Report: Sendable, Codable {
        public let directory: String
        public let metricPoints: Int
        public let batchSize: Int
        public let logSeconds: Double
        public let pointsPerSecond: Double
        public let singlePointWrites: Int
        public let singlePointWritesPerSecond: Double
        public let runs: Int
        public let listMilliseconds: Double
        public let artifacts: Int
        public let artifactSeconds: Double
    }

    public init() {}

    /// Logs `points` metric points into one run in batches of `batchSize`, times `singleWrites`
    /// one-point transactions, writes `artifacts` 64 KiB artifacts, creates `runs` runs with
    /// three metrics each, and times listing them all.
    public func run(
        directory: URL, points: Int = 100_000, batchSize: Int = 1_000, singleWrites: Int = 1_000,
        runs: Int = 10_000, artifacts: Int = 100
    ) throws(StoreError) -> Report {
        let store = try Store(directory: directory)
        let run = try store.startRun(experiment: "bench-metrics", user: "bench", host: "localhost")
        let logSeconds = try Self.seconds { () throws(StoreError) in
            var step = 0
            while step < points {
                let count = min(batchSize, points - step)
                try store.logMetrics(
                    run.id,
                    (step..<(step + count)).map {
                        MetricPoint(key: $0 % 2 == 0 ? "train_loss" : "accuracy", value: 1 / Double($0 + 1), step: $0)
                    })
                step += count
            }
        }
        let singleSeconds = try Self.seconds { () throws(StoreError) in
            for step in 0..<singleWrites {
                try store.logMetrics(run.id, [MetricPoint(key: "val_loss", value: Double(step), step: step)])
            }
        }
        let artifactSeconds = try Self.seconds { () throws(StoreError) in
            for index in 0..<artifacts {
                var bytes = Data(count: 64 * 1024)
                bytes[0] = UInt8(index & 0xFF)
                bytes[1] = UInt8(index >> 8 & 0xFF)
                _ = try store.logArtifact(run.id, path: "blob-\(index).bin", data: bytes)
            }
        }
        for index in 0..<runs {
            let other = try store.startRun(experiment: "bench-runs", runName: "trial-\(index)", user: "bench", host: "localhost")
            try store.logMetrics(
                other.id,
                [
                    MetricPoint(key: "accuracy", value: Double(index % 100) / 100, step: 0),
                    MetricPoint(key: "train_loss", value: 1, step: 0),
                    MetricPoint(key: "macro_f1", value: 0.5, step: 0),
                ])
        }
        var listed = 0
        let listSeconds = try Self.seconds { () throws(StoreError) in listed = try store.runs().count }
        return Report(
            directory: directory.path, metricPoints: points, batchSize: batchSize, logSeconds: logSeconds,
            pointsPerSecond: Double(points) / logSeconds, singlePointWrites: singleWrites,
            singlePointWritesPerSecond: Double(singleWrites) / singleSeconds, runs: listed,
            listMilliseconds: listSeconds * 1000, artifacts: artifacts, artifactSeconds: artifactSeconds)
    }

    private static func seconds(_ work: () throws(StoreError) -> Void) throws(StoreError) -> Double {
        let start = DispatchTime.now()
        try work()
        return Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
