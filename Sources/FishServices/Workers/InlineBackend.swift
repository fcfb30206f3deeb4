import FishCluster
import Foundation

/// Runs worker tasks in this process, on `workers` threads, through the same `WorkerService` the
/// worker processes use. For FishOps used as a library (no `fishops` binary to start) and tests.
final class InlineBackend: ClusterBackend, @unchecked Sendable {
    let name = "inline"
    let pollInterval = Duration.milliseconds(20)
    private let service: WorkerService
    private let slots: DispatchSemaphore
    private let onMessage: @Sendable (String, WorkerMessage) -> Void
    private let lock = NSLock()
    private var status: [String: TaskStatus] = [:]
    private var logs: [String: String] = [:]
    private var cancelled: Set<String> = []

    init(workers: Int, threadsPerWorker: Int, onMessage: @escaping @Sendable (String, WorkerMessage) -> Void) {
        service = WorkerService(threads: threadsPerWorker)
        slots = DispatchSemaphore(value: max(workers, 1))
        self.onMessage = onMessage
    }

    func submit(_ tasks: [ClusterTask]) throws {
        for task in tasks {
            let worker = try WorkerTask.load(URL(fileURLWithPath: task.taskFile))
            lock.withLock {
                let attempt = status[task.id].map { $0.attempt + 1 } ?? 1
                status[task.id] = TaskStatus(id: task.id, state: .pending, reason: "waiting for a free thread")
                status[task.id]?.attempt = attempt
                cancelled.remove(task.id)
            }
            Thread.detachNewThread { [self] in
                slots.wait()
                defer { slots.signal() }
                let id = task.id
                guard lock.withLock({ !cancelled.contains(id) }) else { return }
                lock.withLock { status[id]?.state = .running }
                do {
                    try service.run(
                        worker,
                        emit: { message in
                            self.lock.withLock {
                                self.logs[id, default: ""] += message.line + "\n"
                                if message.event == "progress" {
                                    self.status[id]?.done = message.done
                                    self.status[id]?.total = message.total
                                }
                            }
                            self.onMessage(id, message)
                        }, isCancelled: { self.lock.withLock { self.cancelled.contains(id) } })
                    lock.withLock { status[id]?.state = .completed }
                } catch {
                    lock.withLock {
                        status[id]?.state = cancelled.contains(id) ? .cancelled : .failed
                        status[id]?.reason = "\(error)"
                    }
                }
            }
        }
    }

    func statuses() throws -> [String: TaskStatus] { lock.withLock { status } }

    func cancel(_ ids: [String]) {
        lock.withLock { cancelled.formUnion(ids) }
    }

    func nodes() throws -> [ClusterNode] {
        [
            ClusterNode(
                name: ProcessInfo.processInfo.hostName, state: "in-process", cpus: ProcessInfo.processInfo.activeProcessorCount,
                allocatedCPUs: 0)
        ]
    }

    func log(of id: String) -> String { lock.withLock { logs[id] ?? "" } }
}
