public import FishRecords
public import Foundation

/// One unit of work for `fishops worker --task FILE`. A launcher needs only where the task file
/// is and where the worker writes its result; what the task does is the worker's business.
public struct ClusterTask: Sendable, Codable, Hashable {
    public let id: String
    /// The task's JSON file (on storage every node sees).
    public let taskFile: String
    /// The file the worker renames its result into; its presence means the task is done.
    public let resultFile: String

    public init(id: String, taskFile: String, resultFile: String) {
        self.id = id
        self.taskFile = taskFile
        self.resultFile = resultFile
    }
}

/// Where a task stands; Slurm's job states map onto these.
public enum TaskState: String, Sendable, Codable, CaseIterable {
    case pending = "PENDING"
    case running = "RUNNING"
    case completed = "COMPLETED"
    case failed = "FAILED"
    case cancelled = "CANCELLED"
    case timeout = "TIMEOUT"

    /// True once the task will not change state again (without a resubmission).
    public var isFinal: Bool { self != .pending && self != .running }
}

/// The latest known state of one task and of the worker running it.
public struct TaskStatus: Sendable, Codable, Equatable {
    public var id: String
    public var state: TaskState
    /// Why it is pending or why it failed.
    public var reason: String?
    /// The process or node and job running it.
    public var worker: String?
    public var done: Int?
    public var total: Int?
    public var cpuPercent: Double?
    public var rssBytes: Int?
    /// When the worker last reported.
    public var heartbeat: Date?
    /// Which submission of the task this is (1 for the first).
    public var attempt = 1

    public init(id: String, state: TaskState, reason: String? = nil, worker: String? = nil) {
        self.id = id
        self.state = state
        self.reason = reason
        self.worker = worker
    }
}

/// What runs worker tasks: submit, watch, cancel, list nodes, read logs. Kept small so that
/// another engine (Ray, Kubernetes jobs) fits behind it.
public protocol ClusterBackend: AnyObject, Sendable {
    /// `local`, `slurm`, ...
    var name: String { get }
    /// How often a watcher should ask for states.
    var pollInterval: Duration { get }
    /// Queues `tasks` to run once more each (a resubmission after a failure too).
    func submit(_ tasks: [ClusterTask]) throws
    /// The latest status of every task submitted so far.
    func statuses() throws -> [String: TaskStatus]
    /// Stops the given tasks (queued or running).
    func cancel(_ ids: [String])
    /// The machines tasks run on.
    func nodes() throws -> [ClusterNode]
    /// The output of the task's latest attempt (may be empty).
    func log(of id: String) -> String
}

/// Why the cluster could not run the work.
public enum ClusterError: Error, Sendable, Equatable, CustomStringConvertible {
    case toolMissing(String, hint: String)
    case command(String, status: Int32, output: String)
    case taskFailed(id: String, attempts: Int, reason: String, log: String)
    case cancelled
    case unexpected(String)

    public var description: String {
        switch self {
        case .toolMissing(let tool, let hint): return "\(tool) was not found on PATH; \(hint)"
        case .command(let command, let status, let output):
            return "`\(command)` failed with status \(status): \(output.trimmingCharacters(in: .whitespacesAndNewlines))"
        case .taskFailed(let id, let attempts, let reason, let log):
            let tail = log.split(separator: "\n").suffix(5).joined(separator: "\n  ")
            return "task \(id) failed \(attempts) time(s), last: \(reason)" + (tail.isEmpty ? "" : "\n  \(tail)")
        case .cancelled: return "cancelled"
        case .unexpected(let detail): return detail
        }
    }
}
