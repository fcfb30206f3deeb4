import FishCluster
import Foundation

/// Where a pipeline's worker tasks run and how they are cut: part of a training spec, so a
/// resumed run uses the same settings.
public struct ClusterOptions: Sendable, Codable, Equatable {
    public enum Backend: String, Sendable, Codable, CaseIterable {
        /// `fishops worker` processes on this machine (in-process threads when FishOps runs as a
        /// library without its binary).
        case local
        /// An array job per stage on the Slurm cluster `SLURM_CONF` points at.
        case slurm
    }

    public var backend = Backend.local
    /// Local worker processes (default: one per core).
    public var workers: Int?
    /// Image views per extraction task.
    public var shardSize = 128
    /// Submissions of a task before the run fails.
    public var maxAttempts = 3
    /// Extra `sbatch` options, e.g. `--partition=cpu --time=30`.
    public var sbatchOptions: [String] = []
    /// CPUs per Slurm task (each worker uses that many threads).
    public var slurmCPUsPerTask = 1
    /// Seconds without a line from a local worker before it is killed and its task retried.
    public var heartbeatTimeout = 60.0

    public init() {}

    /// What is wrong with the options, or nil.
    public var problem: String? {
        if let workers, workers < 1 || workers > 256 { return "workers must be 1 to 256" }
        if shardSize < 1 || shardSize > 100_000 { return "shard size must be 1 to 100000" }
        if maxAttempts < 1 || maxAttempts > 100 { return "max attempts must be 1 to 100" }
        if slurmCPUsPerTask < 1 || slurmCPUsPerTask > 1024 { return "CPUs per Slurm task must be 1 to 1024" }
        if !(heartbeatTimeout >= 2 && heartbeatTimeout <= 86_400) { return "heartbeat timeout must be 2 to 86400 seconds" }
        return nil
    }

    /// The backend these options describe, keeping its files under `workDirectory`.
    func makeBackend(
        config: FishConfig, workDirectory: URL, jobName: String,
        onMessage: @escaping @Sendable (String, WorkerMessage) -> Void
    ) -> any ClusterBackend {
        let workers = self.workers ?? ProcessInfo.processInfo.activeProcessorCount
        let threads = max(config.threads / workers, 1)
        switch backend {
        case .local:
            guard let executable = config.workerExecutable else {
                return InlineBackend(workers: workers, threadsPerWorker: threads, onMessage: onMessage)
            }
            return LocalBackend(
                workers: workers, threadsPerWorker: threads, executable: executable,
                logs: workDirectory.appendingPathComponent("logs"), heartbeatTimeout: heartbeatTimeout,
                onMessage: onMessage)
        case .slurm:
            let executable = config.workerExecutable ?? FishConfig.ownExecutable
            return SlurmBackend(
                executable: executable, directory: workDirectory.appendingPathComponent("slurm"), jobName: jobName,
                sbatchOptions: ["--cpus-per-task=\(slurmCPUsPerTask)"] + sbatchOptions)
        }
    }
}
