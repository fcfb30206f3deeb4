import FishCluster
import FishStore
import Foundation

/// Runs one pipeline stage's worker tasks on a backend and records every state change in the
/// store. Tasks an earlier coordinator already completed (row COMPLETED, result on disk) are not
/// run again; the rest keep counting their attempts across coordinators.
public struct StageTasks {
    /// What the stage's tasks cost this time.
    public struct Figures: Sendable, Codable, Equatable {
        public var total = 0
        /// Completed by an earlier coordinator of the same run, not run again.
        public var reused = 0
        /// Run by this coordinator.
        public var run = 0
        /// Resubmissions after a failed or killed attempt.
        public var retries = 0
    }

    let store: Store
    let runId: String
    let stage: String
    let runner: TaskRunner
    let workDirectory: URL

    /// Runs `tasks`; `finished` sees each task that completes now, `progress` the latest statuses.
    func run(
        _ tasks: [WorkerTask], isCancelled: () -> Bool, progress: ([String: TaskStatus]) -> Void = { _ in },
        finished: (WorkerTask) throws -> Void = { _ in }
    ) throws -> Figures {
        let rows = Dictionary(uniqueKeysWithValues: try store.pipelineTasks(runId: runId, stage: stage).map { ($0.taskId, $0) })
        let worker = WorkerService(threads: 1)
        var figures = Figures(total: tasks.count)
        var todo: [ClusterTask] = []
        var byId: [String: WorkerTask] = [:]
        var earlier: [String: Int] = [:]
        var newRows: [PipelineTask] = []
        for task in tasks {
            if rows[task.id]?.state == TaskState.completed.rawValue && worker.isComplete(task) {
                figures.reused += 1
                continue
            }
            let file = workDirectory.appendingPathComponent("tasks/\(task.id).json")
            try task.save(to: file)
            todo.append(ClusterTask(id: task.id, taskFile: file.path, resultFile: task.result))
            byId[task.id] = task
            earlier[task.id] = rows[task.id]?.attempts ?? 0
            newRows.append(
                PipelineTask(
                    runId: runId, taskId: task.id, stage: stage, state: TaskState.pending.rawValue,
                    attempts: earlier[task.id] ?? 0))
        }
        try store.saveTasks(newRows)
        figures.run = todo.count
        var attempts = earlier
        var latest: [String: TaskStatus] = [:]
        try runner.run(
            todo, attempts: &attempts, isCancelled: isCancelled,
            update: { changed in
                for status in changed { latest[status.id] = status }
                try? store.saveTasks(changed.map { row($0, attempts: (earlier[$0.id] ?? 0) + $0.attempt) })
                progress(latest)
            },
            finished: { task in
                guard let work = byId[task.id] else { return }
                if var status = latest[task.id] {
                    status.state = .completed
                    try store.saveTasks([row(status, attempts: (earlier[task.id] ?? 0) + status.attempt)])
                }
                try finished(work)
            })
        figures.retries = attempts.values.reduce(0, +) - earlier.values.reduce(0, +) - todo.count
        return figures
    }

    private func row(_ status: TaskStatus, attempts: Int) -> PipelineTask {
        var row = PipelineTask(runId: runId, taskId: status.id, stage: stage, state: status.state.rawValue, attempts: attempts)
        row.worker = status.worker
        row.reason = status.reason
        row.done = status.done
        row.total = status.total
        row.cpuPercent = status.cpuPercent
        row.rssBytes = status.rssBytes
        row.heartbeatAt = status.heartbeat
        return row
    }
}
