public import FishRecords
public import Foundation

/// Runs tasks on an existing Slurm cluster: each submission is one array job (`sbatch --array`)
/// whose elements run `fishops worker --task FILE`; states come from `squeue --json --states=all`,
/// nodes from `sinfo --json`, cancellation is `scancel`, logs are the array elements' output files.
/// The task files, results and logs live under `directory`, which every node must see.
public final class SlurmBackend: ClusterBackend, @unchecked Sendable {
    public let name = "slurm"
    public let pollInterval = Duration.milliseconds(500)
    /// Extra `sbatch` options (`--partition`, `--cpus-per-task`, `--time`, ...).
    public let sbatchOptions: [String]
    private let executable: URL
    private let directory: URL
    private let jobName: String
    private static let hint = "install slurm-client (and point SLURM_CONF at your cluster) or use --backend local"

    private let lock = NSLock()
    /// Where each task's latest attempt is: array job id and index.
    private var placement: [String: (job: Int, index: Int, attempt: Int)] = [:]
    private var tasks: [String: ClusterTask] = [:]

    /// - Parameters:
    ///   - executable: the `fishops` binary, at a path the nodes can run.
    ///   - directory: a shared folder for scripts and logs.
    public init(executable: URL, directory: URL, jobName: String, sbatchOptions: [String] = []) {
        self.executable = executable
        self.directory = directory
        self.jobName = jobName
        self.sbatchOptions = sbatchOptions
    }

    public func submit(_ batch: [ClusterTask]) throws {
        guard !batch.isEmpty else { return }
        let logs = directory.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let stamp = "\(Int(Date().timeIntervalSince1970 * 1000))-\(UInt32.random(in: 0...UInt32.max))"
        // Element i of the array runs the task file on line i+1 of the list.
        let list = directory.appendingPathComponent("array-\(stamp).txt")
        try Data((batch.map(\.taskFile).joined(separator: "\n") + "\n").utf8).write(to: list, options: .atomic)
        let script = directory.appendingPathComponent("array-\(stamp).sh")
        try Data(
            """
            #!/bin/sh
            # FishOps worker array: element N runs the task on line N+1 of \(list.path).
            task=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" '\(list.path)')
            export FISHOPS_THREADS="${SLURM_CPUS_PER_TASK:-1}"
            exec '\(executable.path)' worker --task "$task"

            """.utf8
        ).write(to: script, options: .atomic)
        let arguments =
            [
                "--parsable", "--array=0-\(batch.count - 1)", "--job-name=\(jobName)",
                "--output=\(logs.path)/%A_%a.out", "--chdir=\(directory.path)",
            ] + sbatchOptions + [script.path]
        let reply = String(decoding: try ExternalCommand.run("sbatch", arguments, hint: Self.hint), as: UTF8.self)
        // --parsable prints "jobid" or "jobid;cluster".
        guard let job = Int(reply.split(separator: ";").first?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") else {
            throw ClusterError.unexpected("sbatch answered \(reply.debugDescription), not a job id")
        }
        lock.withLock {
            for (index, task) in batch.enumerated() {
                placement[task.id] = (job, index, (placement[task.id]?.attempt ?? 0) + 1)
                tasks[task.id] = task
            }
        }
    }

    public func statuses() throws -> [String: TaskStatus] {
        let (placement, tasks) = lock.withLock { (self.placement, self.tasks) }
        guard !placement.isEmpty else { return [:] }
        let jobs = Set(placement.values.map(\.job)).sorted().map(String.init).joined(separator: ",")
        let data = try ExternalCommand.run("squeue", ["--json", "--states=all", "--jobs=\(jobs)"], hint: Self.hint)
        let records = try SlurmJSON.jobs(data)
        var result: [String: TaskStatus] = [:]
        for (id, place) in placement {
            var status =
                SlurmJSON.status(of: place.job, index: place.index, in: records, id: id)
                ?? Self.leftQueue(id: id, resultFile: tasks[id]?.resultFile)
            status.attempt = place.attempt
            if status.state == .running, let progress = WorkerMessage.lastProgress(in: log(of: id)) {
                (status.done, status.total) = (progress.done, progress.total)
            }
            result[id] = status
        }
        return result
    }

    /// A job that is no longer listed (aged out of slurmctld's memory): its result file decides.
    private static func leftQueue(id: String, resultFile: String?) -> TaskStatus {
        if let resultFile, FileManager.default.fileExists(atPath: resultFile) { return TaskStatus(id: id, state: .completed) }
        return TaskStatus(id: id, state: .failed, reason: "the job left the queue without a result")
    }

    public func cancel(_ ids: [String]) {
        let targets = lock.withLock { ids.compactMap { placement[$0].map { "\($0.job)_\($0.index)" } } }
        guard !targets.isEmpty else { return }
        _ = try? ExternalCommand.run("scancel", targets, hint: Self.hint)
    }

    public func nodes() throws -> [ClusterNode] {
        try Self.nodes()
    }

    /// The nodes of the cluster `SLURM_CONF` points at (`sinfo --json`).
    public static func nodes() throws -> [ClusterNode] {
        try SlurmJSON.nodes(try ExternalCommand.run("sinfo", ["--json"], hint: hint))
    }

    public func log(of id: String) -> String {
        guard let place = lock.withLock({ placement[id] }) else { return "" }
        let file = directory.appendingPathComponent("logs/\(place.job)_\(place.index).out")
        return (try? String(contentsOf: file, encoding: .utf8)) ?? ""
    }
}
