public import FishServices
import Foundation

/// Measures the training pipeline's worker layouts on the same data, each in a scratch home with
/// an empty feature cache: local pools of 1 worker x 1 thread, 1 x 2 threads and 2 x 1 thread,
/// and, when asked, the Slurm backend with the 2 x 1 layout, for its overhead against local.
public struct ClusterBenchmark: Sendable {
    public struct Row: Sendable, Codable {
        public let backend: String
        public let workers: Int
        public let threadsPerWorker: Int
        public let images: Int
        public let featureSeconds: Double
        public let featureImagesPerSecond: Double
        public let totalSeconds: Double
        public let testMacroF1: Double
    }

    public struct Report: Sendable, Codable {
        public let data: String
        public let rows: [Row]
        /// Slurm's total time minus the local 2 x 1 pool's, and their ratio.
        public let slurmOverheadSeconds: Double?
        public let slurmOverheadRatio: Double?
    }

    private let context: ServiceContext

    public init(context: ServiceContext) {
        self.context = context
    }

    public func run(data: String, slurm: Bool, progress: (String) -> Void = { _ in }) throws -> Report {
        var layouts: [(ClusterOptions.Backend, workers: Int, threads: Int)] = [(.local, 1, 1), (.local, 1, 2), (.local, 2, 1)]
        if slurm { layouts.append((.slurm, 2, 1)) }
        var rows: [Row] = []
        for (backend, workers, threads) in layouts {
            progress("\(backend.rawValue): \(workers) worker(s) x \(threads) thread(s)")
            var config = context.config
            config.threads = workers * threads
            let scratch = try ScratchHome(copying: try ServiceContext(config: config))
            var spec = TrainingSpec(data: data)
            spec.cluster.backend = backend
            spec.cluster.workers = workers
            spec.cluster.slurmCPUsPerTask = threads
            let report = try TrainingService(context: scratch.context).train(spec)
            let images = report.features.computed
            let seconds = report.seconds["features"] ?? 0
            rows.append(
                Row(
                    backend: backend.rawValue, workers: workers, threadsPerWorker: threads, images: images,
                    featureSeconds: seconds, featureImagesPerSecond: seconds > 0 ? Double(images) / seconds : 0,
                    totalSeconds: report.seconds["total"] ?? 0, testMacroF1: report.evaluation.macroF1))
            withExtendedLifetime(scratch) {}
        }
        let local = rows.first { $0.backend == "local" && $0.workers == 2 }
        let cluster = rows.first { $0.backend == "slurm" }
        return Report(
            data: data, rows: rows,
            slurmOverheadSeconds: zip(cluster, local).map { $0.totalSeconds - $1.totalSeconds },
            slurmOverheadRatio: zip(cluster, local).map { $0.totalSeconds / max($1.totalSeconds, 1e-9) })
    }
}

private func zip<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}
