import FishServices
import FishStore
import FishTestSupport
import Foundation
import Testing

/// `fishops cluster` once showed the workers of a dead coordinator as busy forever.
@Suite struct ClusterStateTests {
    @Test func silentRunningTasksAreNotBusyWorkers() throws {
        let context = try ServiceContext(config: FishConfig(home: try Fixtures.temporaryDirectory(), threads: 1))
        let run = try context.store.startRun(experiment: "fish", user: "u", host: "h")
        try context.store.createPipeline(runId: run.id, kind: "train", spec: "{}", backend: "local", stages: ["extract"])
        var live = PipelineTask(runId: run.id, taskId: "shard-1", stage: "extract", state: "RUNNING", attempts: 1)
        live.worker = "pid 1"
        live.heartbeatAt = Date()
        var silent = PipelineTask(runId: run.id, taskId: "shard-2", stage: "extract", state: "RUNNING", attempts: 1)
        silent.worker = "pid 2"
        silent.heartbeatAt = Date(timeIntervalSinceNow: -600)
        try context.store.saveTasks([live, silent])
        let state = try ClusterService(context: context).state()
        #expect(state.nodes.first?.state.hasPrefix("1/") == true, "\(state.nodes.map(\.state))")
        #expect(
            state.problems.contains { $0.contains("1 running task(s) have not reported") && $0.contains(run.id) },
            "\(state.problems)")
    }
}
