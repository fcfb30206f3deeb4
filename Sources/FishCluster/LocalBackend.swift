public import FishRecords
public import Foundation

/// The embedded backend: a pool of `workers` `fishops worker` processes on this machine, fed
/// from a queue. It watches each worker's JSON lines (progress, heartbeats), samples its CPU and
/// memory, and kills a worker whose heartbeats stop. Worker output goes to `<logs>/<task>.log`.
public final class LocalBackend: ClusterBackend, @unchecked Sendable {
    public let name = "local"
    public let pollInterval = Duration.milliseconds(100)
    public let workers: Int
    public let threadsPerWorker: Int
    private let executable: URL
    private let logs: URL
    private let heartbeatTimeout: TimeInterval
    private let onMessage: @Sendable (String, WorkerMessage) -> Void

    private let lock = NSLock()
    private var queue: [ClusterTask] = []
    private var running: [String: Process] = [:]
    private var cancelled: Set<String> = []
    private var status: [String: TaskStatus] = [:]
    private var stats = ProcessStats()

    /// - Parameters:
    ///   - executable: the `fishops` binary the workers run.
    ///   - logs: the folder for the workers' output.
    ///   - onMessage: every worker message as it arrives, with its task id.
    public init(
        workers: Int, threadsPerWorker: Int, executable: URL, logs: URL, heartbeatTimeout: TimeInterval = 60,
        onMessage: @escaping @Sendable (String, WorkerMessage) -> Void = { _, _ in }
    ) {
        self.workers = max(workers, 1)
        self.threadsPerWorker = max(threadsPerWorker, 1)
        self.executable = executable
        self.logs = logs
        self.heartbeatTimeout = heartbeatTimeout
        self.onMessage = onMessage
    }

    public func submit(_ tasks: [ClusterTask]) throws {
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        lock.withLock {
            for task in tasks {
                queue.append(task)
                cancelled.remove(task.id)
                let attempt = status[task.id].map { $0.attempt + 1 } ?? 1
                status[task.id] = TaskStatus(id: task.id, state: .pending, reason: "waiting for a free worker")
                status[task.id]?.attempt = attempt
            }
        }
        dispatch()
    }

    public func statuses() throws -> [String: TaskStatus] {
        lock.withLock {
            let now = Date()
            for (id, process) in running {
                let sample = stats.sample(process.processIdentifier)
                status[id]?.cpuPercent = sample.cpuPercent
                status[id]?.rssBytes = sample.rssBytes
                if let heartbeat = status[id]?.heartbeat, now.timeIntervalSince(heartbeat) > heartbeatTimeout {
                    status[id]?.reason = "no heartbeat for \(Int(heartbeatTimeout)) s; killed"
                    kill(process.processIdentifier, SIGKILL)
                }
            }
            return status
        }
    }

    public func cancel(_ ids: [String]) {
        lock.withLock {
            let set = Set(ids)
            for task in queue where set.contains(task.id) { status[task.id]?.state = .cancelled }
            queue.removeAll { set.contains($0.id) }
            for id in ids {
                guard let process = running[id] else { continue }
                cancelled.insert(id)
                kill(process.processIdentifier, SIGTERM)
            }
        }
    }

    public func nodes() throws -> [ClusterNode] {
        [Self.machine(busyWorkers: lock.withLock { running.count }, workers: workers, threadsPerWorker: threadsPerWorker)]
    }

    /// This machine as the pool's one node.
    public static func machine(busyWorkers: Int, workers: Int, threadsPerWorker: Int) -> ClusterNode {
        var node = ClusterNode(
            name: ProcessInfo.processInfo.hostName, state: "\(busyWorkers)/\(workers) workers busy",
            cpus: ProcessInfo.processInfo.activeProcessorCount, allocatedCPUs: busyWorkers * threadsPerWorker)
        node.memoryMB = Int(ProcessInfo.processInfo.physicalMemory / 1_048_576)
        node.load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)).flatMap {
            Double($0.split(separator: " ").first ?? "")
        }
        return node
    }

    public func log(of id: String) -> String {
        (try? String(contentsOf: logFile(id), encoding: .utf8)) ?? ""
    }

    /// Stops every worker (used when the coordinator ends early).
    public func shutdown() {
        cancel(lock.withLock { Array(running.keys) + queue.map(\.id) })
    }

    private func logFile(_ id: String) -> URL { logs.appendingPathComponent("\(id).log") }

    /// Starts queued tasks while workers are free.
    private func dispatch() {
        lock.withLock {
            while running.count < workers, !queue.isEmpty {
                let task = queue.removeFirst()
                do {
                    running[task.id] = try launch(task)
                    status[task.id]?.state = .running
                    status[task.id]?.reason = nil
                    status[task.id]?.heartbeat = Date()
                    status[task.id]?.worker = "pid \(running[task.id]?.processIdentifier ?? 0)"
                } catch {
                    status[task.id]?.state = .failed
                    status[task.id]?.reason = "could not start \(executable.path): \(error)"
                }
            }
        }
    }

    /// Starts one worker process for `task` (called with the lock held).
    private func launch(_ task: ClusterTask) throws -> Process {
        let descriptor = open(logFile(task.id).path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard descriptor >= 0 else { throw ClusterError.unexpected("cannot write \(logFile(task.id).path)") }
        let log = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        let process = Process()
        process.executableURL = executable
        process.arguments = ["worker", "--task", task.taskFile]
        process.environment = ProcessInfo.processInfo.environment.merging([
            "FISHOPS_THREADS": "\(threadsPerWorker)", "FISHOPS_WORKER_PARENT": "\(getpid())",
        ]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        let lines = LineSplitter()
        let id = task.id
        // The two handlers run on different threads: reading under one lock keeps a last line that
        // the readability handler has taken from the pipe from arriving after the exit is recorded
        // (its error message would be missing from the failure's reason).
        let reading = NSLock()
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            reading.withLock {
                let data = handle.availableData
                guard !data.isEmpty else { return }
                log.write(data)
                for line in lines.append(data) { self?.received(line, from: id) }
            }
        }
        process.terminationHandler = { [weak self] process in
            reading.withLock {
                output.fileHandleForReading.readabilityHandler = nil
                let rest = output.fileHandleForReading.readDataToEndOfFile()
                log.write(rest)
                for line in lines.append(rest + Data("\n".utf8)) { self?.received(line, from: id) }
            }
            self?.finished(id, process: process)
        }
        try Self.withSignalsUnblocked { try process.run() }
        return process
    }

    /// Runs `body` with no signal blocked on this thread. A child starts with the signal mask of
    /// the thread that spawns it, and Dispatch's threads block nearly every signal: a worker
    /// spawned from one would ignore the SIGTERM that cancels it.
    private static func withSignalsUnblocked<T>(_ body: () throws -> T) rethrows -> T {
        var none = sigset_t()
        var previous = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return try body()
    }

    private func received(_ line: String, from id: String) {
        guard let message = WorkerMessage.parse(line) else { return }
        lock.withLock {
            status[id]?.heartbeat = Date()
            if message.event == "progress" {
                status[id]?.done = message.done
                status[id]?.total = message.total
            }
            if message.event == "error" { status[id]?.reason = message.message }
        }
        onMessage(id, message)
    }

    private func finished(_ id: String, process: Process) {
        lock.withLock {
            running[id] = nil
            stats.forget(process.processIdentifier)
            let code = process.terminationStatus
            if cancelled.remove(id) != nil {
                status[id]?.state = .cancelled
            } else if process.terminationReason == .exit && code == 0 {
                status[id]?.state = .completed
            } else {
                status[id]?.state = .failed
                let cause = process.terminationReason == .uncaughtSignal ? "killed by signal \(code)" : "exit status \(code)"
                let detail = status[id]?.reason
                status[id]?.reason = [cause, detail].compactMap { $0 }.joined(separator: ": ")
            }
        }
        dispatch()
    }
}

/// Splits a byte stream into lines.
private final class LineSplitter: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer = Data()

    /// Adds `data` and returns the lines it completed.
    func append(_ data: Data) -> [String] {
        lock.withLock {
            buffer.append(data)
            var lines: [String] = []
            while let newline = buffer.firstIndex(of: 0x0A) {
                lines.append(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                buffer.removeSubrange(buffer.startIndex...newline)
            }
            return lines
        }
    }
}
