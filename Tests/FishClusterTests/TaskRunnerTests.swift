import FishCluster
import FishRecords
import FishTestSupport
import Foundation
import Testing

/// The local backend and the retry loop with real worker processes: a small shell script that
/// speaks the worker protocol stands in for `fishops worker` (the backend only needs an executable
/// that takes `worker --task FILE`, prints JSON lines and writes its result).
@Suite struct TaskRunnerTests {
    /// A folder with the stand-in worker; its task files say `MODE RESULT MARKER`.
    struct Workspace {
        let folder: URL
        var executable: URL { folder.appendingPathComponent("worker.sh") }

        init() throws {
            folder = try Fixtures.temporaryDirectory()
            let script = """
                #!/bin/sh
                read mode result marker < "$3"
                echo '{"event":"start"}'
                case "$mode" in
                  ok) echo '{"event":"progress","done":1,"total":1}'; echo done > "$result" ;;
                  flaky) if [ -e "$marker" ]; then echo done > "$result"; else touch "$marker"
                           echo '{"event":"error","message":"node lost"}'; exit 3; fi ;;
                  broken) echo '{"event":"error","message":"always broken"}'; echo "traceback line" >&2; exit 4 ;;
                  silent) exec sleep 30 ;;
                  noresult) ;;
                esac
                """
            try Data(script.utf8).write(to: executable)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: executable.path)
        }

        func task(_ id: String, mode: String) throws -> ClusterTask {
            let file = folder.appendingPathComponent("\(id).task")
            let result = folder.appendingPathComponent("\(id).result")
            try Data("\(mode) \(result.path) \(folder.appendingPathComponent("\(id).marker").path)\n".utf8).write(to: file)
            return ClusterTask(id: id, taskFile: file.path, resultFile: result.path)
        }

        func backend(workers: Int = 2, heartbeatTimeout: TimeInterval = 60) -> LocalBackend {
            LocalBackend(
                workers: workers, threadsPerWorker: 1, executable: executable, logs: folder.appendingPathComponent("logs"),
                heartbeatTimeout: heartbeatTimeout)
        }
    }

    @Test func aFailedTaskIsRetriedAndEveryTaskFinishesOnceItsResultExists() throws {
        let workspace = try Workspace()
        let backend = workspace.backend()
        defer { backend.shutdown() }
        let tasks = [try workspace.task("ok-1", mode: "ok"), try workspace.task("flaky-1", mode: "flaky")]
        var attempts: [String: Int] = [:]
        var finished: [String] = []
        var seen: [TaskStatus] = []
        try TaskRunner(backend: backend, maxAttempts: 2).run(
            tasks, attempts: &attempts, isCancelled: { false },
            update: { seen += $0 }, finished: { finished.append($0.id) })
        #expect(Set(finished) == ["ok-1", "flaky-1"])
        #expect(attempts == ["ok-1": 1, "flaky-1": 2])
        #expect(seen.contains { $0.id == "flaky-1" && $0.state == .failed && $0.reason == "exit status 3: node lost" })
    }

    /// Runs one task of `mode` that cannot succeed; returns the failure the run stopped with.
    func failure(mode: String, maxAttempts: Int) throws -> (id: String, attempts: Int, reason: String, log: String) {
        let workspace = try Workspace()
        let backend = workspace.backend()
        defer { backend.shutdown() }
        var attempts: [String: Int] = [:]
        do {
            try TaskRunner(backend: backend, maxAttempts: maxAttempts).run(
                [try workspace.task("\(mode)-1", mode: mode)], attempts: &attempts,
                isCancelled: { false }, update: { _ in }, finished: { _ in })
        } catch let ClusterError.taskFailed(id, count, reason, log) {
            return (id, count, reason, log)
        }
        throw ClusterError.unexpected("a \(mode) task counted as done")
    }

    @Test func aTaskThatKeepsFailingStopsTheRunWithItsReasonAndLog() throws {
        let failure = try failure(mode: "broken", maxAttempts: 2)
        #expect(failure.id == "broken-1" && failure.attempts == 2 && failure.reason == "exit status 4: always broken")
        #expect(failure.log.contains("traceback line"), "the failure carries the worker's log (its stderr)")
    }

    @Test func aWorkerThatExitsWithoutItsResultIsNotDone() throws {
        let failure = try failure(mode: "noresult", maxAttempts: 1)
        #expect(failure.attempts == 1 && failure.reason == "the worker exited without writing its result")
    }

    @Test func aSilentWorkerIsKilledAfterItsHeartbeatTimeout() throws {
        let workspace = try Workspace()
        let backend = workspace.backend(heartbeatTimeout: 1)
        defer { backend.shutdown() }
        try backend.submit([try workspace.task("silent-1", mode: "silent")])
        let deadline = Date().addingTimeInterval(10)
        var status: TaskStatus?
        while Date() < deadline {
            status = try backend.statuses()["silent-1"]
            if status?.state == .failed { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(status?.state == .failed)
        #expect(status?.reason == "killed by signal 9: no heartbeat for 1 s; killed")
    }

    @Test func cancellingStopsRunningAndQueuedTasks() throws {
        let workspace = try Workspace()
        let backend = workspace.backend(workers: 1)
        defer { backend.shutdown() }
        let tasks = [try workspace.task("slow-1", mode: "silent"), try workspace.task("slow-2", mode: "silent")]
        var attempts: [String: Int] = [:]
        var polls = 0
        #expect(throws: ClusterError.cancelled) {
            try TaskRunner(backend: backend, maxAttempts: 1).run(
                tasks, attempts: &attempts,
                isCancelled: {
                    polls += 1
                    return polls > 3
                },
                update: { _ in }, finished: { _ in })
        }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, try backend.statuses().values.contains(where: { !$0.state.isFinal }) {
            Thread.sleep(forTimeInterval: 0.1)
        }
        let statuses = try backend.statuses()
        #expect(statuses.mapValues(\.state) == ["slow-1": .cancelled, "slow-2": .cancelled], "\(statuses)")
    }
}
