package import FishServices
import Foundation

/// What `:overview` shows, from the models, runs, servers, training job and machine figures loaded.
package enum OverviewRows {
    /// One line per model: its latest version and aliases; models in production stand out.
    package static func models(_ models: [ModelOverview]) -> [StyledLine] {
        models.map { model in
            StyledLine(
                "\(model.name)  v\(model.latestVersion ?? 0) latest  \(RegistryRows.aliases(model.aliases))",
                role: model.aliases["production"] != nil ? "ui.text" : "ui.muted")
        }
    }

    /// One line per run: name, status and its headline metric (the gate's, else validation accuracy).
    package static func runs(_ runs: [RunSummary]) -> [StyledLine] {
        runs.map { run in
            let key =
                run.metrics.first { $0.key == "test_macro_f1" } ?? run.metrics.first { $0.key == "val_accuracy" }
                ?? run.metrics.first
            let metric = key.map { "\($0.key) \(Format.number($0.bestValue))" } ?? ""
            let name = run.run.name.padding(toLength: 18, withPad: " ", startingAt: 0)
            let status = run.run.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
            return StyledLine("\(name) \(status) \(metric)", role: Format.role(run.run.status))
        }
    }

    /// This machine's cores, load and memory (once read), the console's training job, then the servers.
    package static func machine(_ node: LocalNode?, training: TrainingMonitor.State?, servers: [ServingService.Server]?)
        -> [StyledLine]
    {
        var lines =
            node.map { node in
                [
                    "\(node.cores) cores, load \(String(format: "%.2f", node.load))",
                    String(format: "memory %.1f of %.1f GiB free", node.availableGiB, node.totalGiB),
                ]
            } ?? []
        if let job = training {
            if let report = job.report {
                lines.append("trained \(report.model.name) v\(report.model.version)")
            } else if job.error != nil {
                lines.append("training stopped")
            } else {
                lines.append("training: \(job.stage?.rawValue ?? "starting") \(job.done)/\(job.total)")
            }
        } else {
            lines.append("no training job")
        }
        return (lines + serving(servers)).map { StyledLine($0) }
    }

    /// The MLflow mirror's state (in sync, N behind, the last error), when the store has one.
    package static func mirror(_ status: MirrorStatus?) -> [StyledLine] {
        guard let status, let server = status.server else { return [] }
        let role = status.pending > 0 && status.lastError != nil ? "ui.error" : status.pending > 0 ? "ui.muted" : "ui.text"
        return [StyledLine("mlflow \(ServeFormat.address(server)): \(status.summary)", role: role)]
    }

    /// How many servers are in each state, then one line per live one (see `:serve`).
    package static func serving(_ servers: [ServingService.Server]?) -> [String] {
        guard let servers else { return [] }
        guard !servers.isEmpty else { return ["no servers (:serve)"] }
        let counts = ServingService.State.allCases.compactMap { state -> String? in
            let count = servers.filter { $0.state == state }.count
            return count > 0 ? "\(count) \(state.rawValue)" : nil
        }
        return ["servers: " + counts.joined(separator: ", ")]
            + servers.compactMap { server in
                guard server.state == .alive, let stats = server.stats else { return nil }
                let p95 = stats.lastMinute.latencyMs.map { String(format: " p95 %.0f ms", $0.p95) } ?? ""
                let version = stats.version.map(String.init) ?? "-"
                return
                    "  \(ServeFormat.shortModel(stats.model)) v\(version) \(ServeFormat.rate(stats.lastMinute.requestsPerSecond))/s\(p95)"
            }
    }
}
