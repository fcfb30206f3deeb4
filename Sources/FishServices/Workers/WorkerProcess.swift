import FishCluster
public import Foundation

/// The body of a `fishops worker` process: one task, its protocol lines on stdout.
public enum WorkerProcess {
    /// Runs the task described by the file at `taskPath`, printing start, progress, heartbeat
    /// (every second), done or error lines; true when the task's result is on disk. A worker of the
    /// local pool exits (status 3) once its pool's process (`FISHOPS_WORKER_PARENT`) is gone, so a
    /// killed coordinator leaves no workers behind.
    public static func run(taskPath: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        let output = LinePrinter()
        let threads: Int
        do {
            threads = try FishConfig.fromEnvironment(environment).threads
        } catch {
            output.print(WorkerMessage(event: "error", message: "\(error)").line)
            return false
        }
        startHeartbeat(output, parent: environment["FISHOPS_WORKER_PARENT"].flatMap { Int32($0) })
        do {
            let work = try WorkerTask.load(URL(fileURLWithPath: taskPath))
            try WorkerService(threads: threads).run(work, emit: { output.print($0.line) })
            return true
        } catch {
            output.print(WorkerMessage(event: "error", message: "\(error)").line)
            return false
        }
    }

    private static func startHeartbeat(_ output: LinePrinter, parent: Int32?) {
        Thread.detachNewThread {
            while true {
                Thread.sleep(forTimeInterval: 1)
                if let parent, getppid() != parent { Foundation.exit(3) }
                output.print(WorkerMessage(event: "heartbeat").line)
            }
        }
    }
}

/// Whole lines on stdout from several threads.
private final class LinePrinter: Sendable {
    private let lock = NSLock()

    func print(_ line: String) {
        lock.withLock { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
    }
}
