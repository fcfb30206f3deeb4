package import FishRecords
package import Foundation

/// Reads the JSON of `squeue --json` and `sinfo --json`. Slurm 22.05 prints states as strings and
/// exit codes as raw wait statuses; later versions print lists and objects: both are accepted.
package enum SlurmJSON {
    package typealias Record = [String: Any]

    package static func jobs(_ data: Data) throws -> [Record] {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? Record, let jobs = object["jobs"] as? [Record] else {
            throw ClusterError.unexpected("squeue --json printed something that is not a job list")
        }
        return jobs
    }

    /// The status of element `index` of array job `job`, or nil when Slurm no longer lists it.
    package static func status(of job: Int, index: Int, in records: [Record], id: String) -> TaskStatus? {
        let mine = records.filter { integer($0["array_job_id"]) == job || integer($0["job_id"]) == job }
        if let record = mine.first(where: { integer($0["array_task_id"]) == index }) {
            return status(record, id: id)
        }
        // Elements not started yet are folded into one pending record with "array_task_string": "2-5,7".
        if let pending = mine.first(where: { integer($0["array_task_id"]) == nil }),
            let indices = pending["array_task_string"] as? String, contains(indices, index)
        {
            return status(pending, id: id)
        }
        return nil
    }

    private static func status(_ record: Record, id: String) -> TaskStatus {
        let state = text(record["job_state"]) ?? "UNKNOWN"
        let reason = text(record["state_reason"]).flatMap { $0 == "None" ? nil : $0 }
        let node = text(record["nodes"]).flatMap { $0.isEmpty ? nil : $0 }
        let element =
            "\(integer(record["array_job_id"]) ?? 0)_\(integer(record["array_task_id"]).map(String.init) ?? "[pending]")"
        let worker = node.map { "\($0) job \(element)" } ?? "job \(element)"
        switch state {
        case "PENDING", "CONFIGURING", "REQUEUED", "RESV_DEL_HOLD", "REQUEUE_HOLD", "REQUEUE_FED", "SUSPENDED":
            return TaskStatus(id: id, state: .pending, reason: reason ?? state, worker: worker)
        case "RUNNING", "COMPLETING", "STAGE_OUT", "SIGNALING", "RESIZING":
            return TaskStatus(id: id, state: .running, worker: worker)
        case "COMPLETED":
            return TaskStatus(id: id, state: .completed, worker: worker)
        case "CANCELLED":
            return TaskStatus(id: id, state: .cancelled, reason: reason, worker: worker)
        case "TIMEOUT", "DEADLINE":
            return TaskStatus(id: id, state: .timeout, reason: "time limit reached", worker: worker)
        default:  // FAILED, NODE_FAIL, OUT_OF_MEMORY, BOOT_FAIL, PREEMPTED
            return TaskStatus(
                id: id, state: .failed,
                reason: [state, exitDescription(record["exit_code"]), reason]
                    .compactMap { $0 }.joined(separator: ", "), worker: worker)
        }
    }

    /// "exit 3" or "signal 9" from a raw wait status (22.05) or an exit-code object (later).
    package static func exitDescription(_ value: Any?) -> String? {
        if let object = value as? Record {
            if let signal = integer((object["signal"] as? Record)?["id"]), signal > 0 { return "signal \(signal)" }
            return integer(object["return_code"]).map { "exit \($0)" }
        }
        guard let raw = integer(value) else { return nil }
        return raw & 0x7F != 0 ? "signal \(raw & 0x7F)" : "exit \(raw >> 8)"
    }

    package static func nodes(_ data: Data) throws -> [ClusterNode] {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? Record, let nodes = object["nodes"] as? [Record]
        else {
            throw ClusterError.unexpected("sinfo --json printed something that is not a node list")
        }
        return nodes.map { record in
            var node = ClusterNode(
                name: text(record["name"]) ?? "?", state: text(record["state"]) ?? "?",
                cpus: integer(record["cpus"]) ?? 0, allocatedCPUs: integer(record["alloc_cpus"]) ?? 0)
            node.memoryMB = integer(record["real_memory"])
            node.freeMemoryMB = integer(record["free_memory"])
            node.load = integer(record["cpu_load"]).map { Double($0) / 100 }
            node.reason = text(record["reason"]).flatMap { $0.isEmpty ? nil : $0 }
            return node
        }
    }

    /// Whether an array index list like "2-5,7" or "0-9%4" contains `index`.
    package static func contains(_ list: String, _ index: Int) -> Bool {
        let indices = list.split(separator: "%").first ?? ""
        return indices.split(separator: ",").contains { part in
            let bounds = part.split(separator: "-").compactMap { Int($0) }
            guard let low = bounds.first else { return false }
            let high = bounds.count > 1 ? bounds[1] : low
            guard low <= high else { return false }
            return (low...high).contains(index)
        }
    }

    /// A string, or the first of a list of strings (newer Slurm versions).
    private static func text(_ value: Any?) -> String? {
        (value as? String) ?? (value as? [String])?.first
    }

    /// An integer, or `{"set":true,"number":N}` (newer Slurm versions).
    private static func integer(_ value: Any?) -> Int? {
        if let number = value as? Int { return number }
        if let object = value as? Record, object["set"] as? Bool != false { return object["number"] as? Int }
        return nil
    }
}
