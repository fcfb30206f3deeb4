import FishCluster
import FishRecords
import Foundation
import Testing

/// `squeue --json` and `sinfo --json` as Slurm 22.05 prints them (plain strings and numbers, raw
/// wait statuses) and as later versions do (lists, `{"set","number"}` objects, exit-code objects).
@Suite struct SlurmJSONTests {
    func jobs(_ text: String) throws -> [SlurmJSON.Record] { try SlurmJSON.jobs(Data(text.utf8)) }

    @Test func arrayElementsOf2205() throws {
        let records = try jobs(
            """
            {"jobs": [
              {"job_id": 101, "array_job_id": 100, "array_task_id": 1, "job_state": "RUNNING", "nodes": "node1", "state_reason": "None"},
              {"job_id": 102, "array_job_id": 100, "array_task_id": 0, "job_state": "FAILED", "nodes": "node2", "exit_code": 768,
               "state_reason": "NonZeroExitCode"},
              {"job_id": 103, "array_job_id": 100, "array_task_id": 6, "job_state": "NODE_FAIL", "nodes": "node2", "exit_code": 9},
              {"job_id": 100, "array_job_id": 100, "array_task_string": "2-5,7%2", "job_state": "PENDING", "nodes": "",
               "state_reason": "Resources"}
            ]}
            """)
        #expect(
            SlurmJSON.status(of: 100, index: 1, in: records, id: "a")
                == TaskStatus(id: "a", state: .running, worker: "node1 job 100_1"))
        let failed = try #require(SlurmJSON.status(of: 100, index: 0, in: records, id: "b"))
        #expect(failed.state == .failed && failed.reason == "FAILED, exit 3, NonZeroExitCode")
        #expect(SlurmJSON.status(of: 100, index: 6, in: records, id: "c")?.reason == "NODE_FAIL, signal 9")
        let pending = try #require(SlurmJSON.status(of: 100, index: 4, in: records, id: "d"))
        #expect(pending.state == .pending && pending.reason == "Resources" && pending.worker == "job 100_[pending]")
        #expect(
            SlurmJSON.status(of: 100, index: 6, in: records, id: "e")?.state == .failed,
            "a listed element is not the pending range")
        #expect(SlurmJSON.status(of: 100, index: 8, in: records, id: "f") == nil, "an element Slurm no longer lists")
        #expect(SlurmJSON.status(of: 200, index: 0, in: records, id: "g") == nil)
    }

    @Test func arrayElementsOfLaterVersions() throws {
        let records = try jobs(
            """
            {"jobs": [
              {"job_id": 301, "array_job_id": {"set": true, "number": 300}, "array_task_id": {"set": true, "number": 0},
               "job_state": ["FAILED"], "nodes": "node1", "state_reason": "None",
               "exit_code": {"status": ["EXITED"], "return_code": {"set": true, "number": 3}, "signal": {"id": {"set": false, "number": 0}}}},
              {"job_id": 302, "array_job_id": {"set": true, "number": 300}, "array_task_id": {"set": true, "number": 1},
               "job_state": ["CANCELLED"], "nodes": "node1",
               "exit_code": {"status": ["SIGNALED"], "return_code": {"set": true, "number": 0}, "signal": {"id": {"set": true, "number": 15}}}},
              {"job_id": 303, "array_job_id": {"set": true, "number": 300}, "array_task_id": {"set": true, "number": 2},
               "job_state": ["TIMEOUT"], "nodes": "node1"}
            ]}
            """)
        #expect(SlurmJSON.status(of: 300, index: 0, in: records, id: "a")?.reason == "FAILED, exit 3")
        #expect(SlurmJSON.status(of: 300, index: 1, in: records, id: "b")?.state == .cancelled)
        let signalled = try JSONSerialization.jsonObject(with: Data(#"{"signal": {"id": {"set": true, "number": 15}}}"#.utf8))
        #expect(SlurmJSON.exitDescription(signalled) == "signal 15")
        #expect(
            SlurmJSON.status(of: 300, index: 2, in: records, id: "c")
                == TaskStatus(
                    id: "c", state: .timeout, reason: "time limit reached",
                    worker: "node1 job 300_2"))
    }

    @Test func nodesOfBothFormats() throws {
        let old = try SlurmJSON.nodes(
            Data(
                """
                {"nodes": [{"name": "n1", "state": "idle", "cpus": 2, "alloc_cpus": 0, "real_memory": 4000, "free_memory": 3000,
                            "cpu_load": 150, "reason": ""}]}
                """.utf8))
        var expected = ClusterNode(name: "n1", state: "idle", cpus: 2, allocatedCPUs: 0)
        (expected.memoryMB, expected.freeMemoryMB, expected.load) = (4000, 3000, 1.5)
        #expect(old == [expected])
        let new = try SlurmJSON.nodes(
            Data(
                """
                {"nodes": [{"name": "n2", "state": ["DOWN", "NOT_RESPONDING"], "cpus": 8, "alloc_cpus": 4, "real_memory": 16000,
                            "free_memory": {"set": false, "number": 0}, "cpu_load": 0, "reason": "disk gone"}]}
                """.utf8))
        #expect(new.first?.state == "DOWN" && new.first?.freeMemoryMB == nil && new.first?.reason == "disk gone")
    }

    @Test func unreadableOutputIsRefusedWithWhatItWas() {
        #expect(throws: ClusterError.unexpected("squeue --json printed something that is not a job list")) {
            try SlurmJSON.jobs(Data("slurm_load_jobs error: Unable to contact slurm controller".utf8))
        }
        #expect(throws: ClusterError.unexpected("sinfo --json printed something that is not a node list")) {
            try SlurmJSON.nodes(Data(#"{"errors": ["down"]}"#.utf8))
        }
    }

    @Test func arrayIndexLists() {
        #expect(SlurmJSON.contains("2-5,7", 4) && SlurmJSON.contains("2-5,7", 7) && !SlurmJSON.contains("2-5,7", 6))
        #expect(SlurmJSON.contains("0-9%4", 9) && !SlurmJSON.contains("0-9%4", 10))
        #expect(!SlurmJSON.contains("5-2", 3) && !SlurmJSON.contains("", 0))
    }
}
