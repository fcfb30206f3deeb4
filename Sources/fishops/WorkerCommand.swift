import ArgumentParser
import FishServices

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
        guard WorkerProcess.run(taskPath: task) else { throw ExitCode.failure }
    }
}
