import Foundation

/// Runs tasks on a backend to the end: submits them, watches their states, resubmits failed
/// ones (a killed worker, a node failure) up to `maxAttempts` times, and stops everything when
/// cancelled. A task counts as done only when its result file exists.
public struct TaskRunner: Sendable {
    public let backend: any ClusterBackend
    public let maxAttempts: Int

    public init(backend: any ClusterBackend, maxAttempts: Int) {
        self.backend = backend
        self.maxAttempts = max(maxAttempts, 1)
    }

    /// Runs `tasks`; `attempts` holds attempts already spent on each (after a resume) and is
    /// updated. `update` sees every status change; `finished` each task as it completes.
    public func run(
        _ tasks: [ClusterTask], attempts: inout [String: Int], isCancelled: () -> Bool,
        update: ([TaskStatus]) -> Void, finished: (ClusterTask) throws -> Void
    ) throws {
        guard !tasks.isEmpty else { return }
        var remaining = Dictionary(uniqueKeysWithValues: tasks.map { ($0.id, $0) })
        for task in tasks { attempts[task.id, default: 0] += 1 }
        try backend.submit(tasks)
        var last: [String: TaskStatus] = [:]
        while !remaining.isEmpty {
            if isCancelled() {
                backend.cancel(Array(remaining.keys))
                throw ClusterError.cancelled
            }
            Thread.sleep(
                forTimeInterval: Double(backend.pollInterval.components.seconds)
                    + Double(backend.pollInterval.components.attoseconds) / 1e18)
            let statuses = try backend.statuses()
            let changed = remaining.keys.compactMap { statuses[$0] }.filter { last[$0.id] != $0 }
            if !changed.isEmpty { update(changed.sorted { $0.id < $1.id }) }
            for status in changed { last[status.id] = status }
            var retry: [ClusterTask] = []
            for status in changed where status.state.isFinal {
                guard let task = remaining[status.id] else { continue }
                if status.state == .completed && FileManager.default.fileExists(atPath: task.resultFile) {
                    remaining[task.id] = nil
                    try finished(task)
                    continue
                }
                let reason =
                    status.state == .completed
                    ? "the worker exited without writing its result" : status.reason ?? status.state.rawValue
                let spent = attempts[task.id, default: 1]
                guard spent < maxAttempts else {
                    backend.cancel(Array(remaining.keys))
                    throw ClusterError.taskFailed(id: task.id, attempts: spent, reason: reason, log: backend.log(of: task.id))
                }
                attempts[task.id] = spent + 1
                retry.append(task)
            }
            if !retry.isEmpty { try backend.submit(retry) }
        }
    }
}
