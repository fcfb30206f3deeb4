import FishCluster
import FishStore
import Foundation

/// What the cluster is doing, for `fishops cluster`, `pipeline show` and the console: nodes or
/// workers, tasks by state, queue reasons, and the backends in use. Task news comes from the
/// store (the coordinators record it), nodes from the backends themselves.
public struct ClusterService: Sendable {
    /// One pipeline run: its stages and tasks.
    public struct PipelineStatus: Sendable, Codable {
        public let runId: String
        public let runStatus: String
        public let backend: String
        public let stages: [PipelineStage]
        public let tasks: [PipelineTask]
        /// For a RUNNING run: `alive` while a process coordinates it, `gone` when none does (it was
        /// killed, or could not record its end: a full disk); nil for a run that ended.
        public let coordinator: String?
    }

    /// The cluster as a whole.
    public struct State: Sendable, Codable {
        public let backends: [String]
        public let nodes: [ClusterNode]
        /// Unfinished tasks of running pipelines, by state.
        public let tasksByState: [String: Int]
        /// The unfinished tasks of running pipelines, with their workers and queue reasons.
        public let tasks: [PipelineTask]
        /// Backends that could not be asked (Slurm not reachable, ...).
        public let problems: [String]
    }

    private let context: ServiceContext

    public init(context: ServiceContext) {
        self.context = context
    }

    public func pipeline(runId reference: String) throws -> PipelineStatus {
        let run = try context.store.run(reference).run
        guard let pipeline = try context.store.pipeline(runId: run.id) else {
            throw ServiceError.invalidArgument("run \(run.id) is not a pipeline run")
        }
        return PipelineStatus(
            runId: run.id, runStatus: run.status.rawValue, backend: pipeline.backend,
            stages: try context.store.stages(runId: run.id), tasks: try context.store.pipelineTasks(runId: run.id),
            coordinator: run.status == .running ? coordinatorState(run.id) : nil)
    }

    /// Whether a process holds `runId`'s coordinator lock (probed without waiting; nil when the
    /// lock file cannot be opened).
    private func coordinatorState(_ runId: String) -> String? {
        do {
            return try FileLock.ifFree(context.coordinatorLock(runId), { true }) == nil ? "alive" : "gone"
        } catch {
            return nil
        }
    }

    /// The state of the backends in use (or `backend`, when given).
    public func state(backend: ClusterOptions.Backend? = nil) throws -> State {
        let pipelines = try context.store.activePipelines()
        let tasks = try pipelines.flatMap { try context.store.pipelineTasks(runId: $0.runId) }
            .filter { $0.state != TaskState.completed.rawValue }
        var backends = Set(pipelines.compactMap { ClusterOptions.Backend(rawValue: $0.backend) })
        if let backend { backends.insert(backend) }
        if backends.isEmpty { backends.insert(.local) }
        var nodes: [ClusterNode] = []
        var problems: [String] = []
        for kind in backends.sorted(by: { $0.rawValue < $1.rawValue }) {
            switch kind {
            case .local:
                // A running task whose worker has not reported for a heartbeat timeout is not
                // keeping anyone busy: its worker or its coordinator is gone.
                let running = tasks.filter { $0.state == TaskState.running.rawValue && !($0.worker ?? "").contains("job") }
                let silent = running.filter {
                    Date().timeIntervalSince($0.heartbeatAt ?? $0.updatedAt) > ClusterOptions().heartbeatTimeout
                }
                let busy = running.count - silent.count
                if !silent.isEmpty {
                    let runs = Set(silent.map(\.runId)).sorted().joined(separator: ", ")
                    problems.append(
                        "\(silent.count) running task(s) have not reported for over \(Int(ClusterOptions().heartbeatTimeout)) s; "
                            + "their coordinator is gone (resume with `fishops pipeline resume RUN`: \(runs))")
                }
                let workers = ProcessInfo.processInfo.activeProcessorCount
                nodes.append(LocalBackend.machine(busyWorkers: busy, workers: workers, threadsPerWorker: 1))
            case .slurm:
                do { nodes += try SlurmBackend.nodes() } catch { problems.append("slurm: \(error)") }
            }
        }
        return State(
            backends: backends.map(\.rawValue).sorted(), nodes: nodes,
            tasksByState: Dictionary(grouping: tasks, by: \.state).mapValues(\.count), tasks: tasks, problems: problems)
    }
}
