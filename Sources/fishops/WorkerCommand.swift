import ArgumentParser
import FishCluster
import FishServices
import Foundation

struct Worker: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one worker task (started by the local pool or by Slurm; see docs/cluster.md).",
        discussion: """
            Prints JSON lines on stdout: start, progress {done,total}, heartbeat (every second), epoch, done, or error
            {message}. Writes the result atomically; a task whose result exists is not redone. Exit 0 on success.
            """)

    @Option(help: "The task file (JSON).")
    var task: String

    func run() throws {
        let output = LinePrinter()
        let threads: Int
        do {
            threads = try FishConfig.fromEnvironment().threads
        } catch {
            output.print(WorkerMessage(event: "error", message: "\(error)").line)
            throw ExitCode.failure
        }
        startHeartbeat(output)
        do {
            let work = try WorkerTask.load(URL(fileURLWithPath: task))
            try WorkerService(threads: threads).run(work, emit: { output.print($0.line) })
        } catch {
            output.print(WorkerMessage(event: "error", message: "\(error)").line)
            throw ExitCode.failure
        }
    }

    /// A heartbeat line every second; a worker of the local pool also exits when its pool's
    /// process is gone (`FISHOPS_WORKER_PARENT`), so a killed coordinator leaves no workers behind.
    private func startHeartbeat(_ output: LinePrinter) {
        let parent = ProcessInfo.processInfo.environment["FISHOPS_WORKER_PARENT"].flatMap { Int32($0) }
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
final class LinePrinter: Sendable {
    private let lock = NSLock()

    func print(_ line: String) {
        lock.withLock { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
    }
}
