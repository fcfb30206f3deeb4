import FishMLflow
import FishRecords
import FishStore
import Foundation

/// Sends the store's outbox to an MLflow server, oldest entry first, removing each once the server
/// has it. Every step is idempotent, so an entry sent twice (the process died between sending and
/// removing it) is recorded once: a run is found again by its `fishops.run_id` tag, a version by
/// its `fishops.version` tag, MLflow keeps one copy of an identical metric point and param, and
/// tags, aliases and artifact uploads overwrite.
struct MLflowMirror {
    let context: ServiceContext
    let client: MLflowClient
    private var store: Store { context.store }

    /// The tags FishOps finds its records by on the server.
    static let runTag = "fishops.run_id"
    static let versionTag = "fishops.version"
    /// The sha256 of a version's weights, which a machine that downloads the package checks.
    static let packageShaTag = "fishops.package_sha256"

    /// Sends pending entries in order until none is left or `limit` were handled. An entry the
    /// server refuses for what it says is set aside (kept, shown by `mlflow status`) and the drain
    /// goes on; any other failure stops the drain and is thrown, leaving the entry for a retry.
    func drain(limit: Int = .max) throws -> (sent: Int, rejected: Int) {
        var (sent, rejected) = (0, 0)
        while sent + rejected < limit {
            let entries = try store.pendingMirrorEntries(limit: min(limit - sent - rejected, 200))
            if entries.isEmpty { break }
            for entry in entries {
                guard let event = entry.event else {
                    try store.rejectMirrorEntry(entry.id, reason: "the stored entry cannot be read")
                    rejected += 1
                    continue
                }
                do {
                    try send(event)
                } catch let error as MLflowError where error.rejectsRequest {
                    try store.rejectMirrorEntry(entry.id, reason: "\(error)")
                    rejected += 1
                    continue
                } catch let error as Unsendable {
                    try store.rejectMirrorEntry(entry.id, reason: error.reason)
                    rejected += 1
                    continue
                }
                try store.markMirrorEntrySent(entry.id)
                sent += 1
            }
        }
        return (sent, rejected)
    }

    private func send(_ event: MirrorEvent) throws {
        switch event {
        case let .runStarted(run, experiment): try startRun(run, experiment: experiment)
        case let .runEnded(runId, status, endTime):
            try client.endRun(try remoteRun(runId).runId, status: status.rawValue, endTime: endTime)
        case let .params(runId, params): try client.logBatch(try remoteRun(runId).runId, params: params)
        case let .tags(runId, tags): try client.logBatch(try remoteRun(runId).runId, tags: tags)
        case let .metrics(runId, points):
            let metrics = points.map {
                MLflowMetric(key: $0.key, value: $0.value, timestamp: MLflowClient.milliseconds($0.timestamp), step: $0.step)
            }
            try client.logBatch(try remoteRun(runId).runId, metrics: metrics)
        case let .artifact(record):
            let run = try remoteRun(record.runId)
            guard let data = try? store.artifacts.get(record.sha256) else {
                throw Unsendable(reason: "artifact \(record.path) of run \(record.runId) is missing or damaged here")
            }
            try client.uploadArtifact(data, to: record.path, under: run.artifactUri)
        case let .versionRegistered(version): try registerVersion(version)
        case let .evaluation(evaluation):
            let remote = try remoteVersion(evaluation.model, evaluation.version)
            for (metric, value) in evaluation.metrics.sorted(by: { $0.key < $1.key }) {
                try client.setVersionTag(
                    evaluation.model, version: remote, key: "fishops.evaluation.\(evaluation.evaluationData).\(metric)",
                    value: String(value))
            }
        case let .audit(entry): try replay(entry)
        }
    }

    // MARK: Runs

    private func startRun(_ run: Run, experiment: String) throws {
        let experimentID = try experimentID(experiment)
        let found = try client.searchRuns(experimentID: experimentID, filter: "tags.`\(Self.runTag)` = '\(run.id)'").first
        var tags = [Self.runTag: run.id, "mlflow.user": run.user, "fishops.host": run.host]
        if let fingerprint = run.datasetFingerprint { tags["fishops.dataset_fingerprint"] = fingerprint }
        if let parent = run.parentRunId { tags["mlflow.parentRunId"] = try remoteRun(parent).runId }
        let remote =
            try found
            ?? client.createRun(experimentID: experimentID, name: run.name, startTime: run.startTime, user: run.user, tags: tags)
        try store.setMirrorID("run", run.id, remote: remote.runId)
        try store.setMirrorID("run-artifacts", run.id, remote: remote.artifactUri)
    }

    private func experimentID(_ name: String) throws -> String {
        if let known = try store.mirrorID("experiment", name) { return known }
        let id = try client.experimentID(named: name)
        try store.setMirrorID("experiment", name, remote: id)
        return id
    }

    /// The server's run for a run of ours, which an earlier entry created.
    private func remoteRun(_ runId: String) throws -> (runId: String, artifactUri: String) {
        guard let id = try store.mirrorID("run", runId), let artifacts = try store.mirrorID("run-artifacts", runId) else {
            throw Unsendable(reason: "run \(runId) is not on the MLflow server (its start was not mirrored)")
        }
        return (id, artifacts)
    }

    // MARK: The registry

    /// Uploads the version's package and creates the MLflow version that points at it (MLflow
    /// numbers versions itself; ours is its `fishops.version` tag, and the mapping is kept).
    private func registerVersion(_ version: ModelVersion) throws {
        try client.ensureRegisteredModel(version.model)
        if let existing = try client.modelVersions(version.model).first(where: {
            $0.tag(Self.versionTag) == String(version.version)
        }) {
            try store.setMirrorID("version", "\(version.model)/\(version.version)", remote: existing.version)
            return
        }
        // A trained version's package goes with its run's artifacts; an imported backbone has no
        // run, so it gets one of its own (MLflow wants a version's source inside a run).
        let run = try version.sourceRunId.map { runId in try remoteRun(runId) } ?? packageRun(for: version)
        let package = context.packageDirectory(version.packagePath)
        for file in try Self.files(in: package) {
            try client.uploadArtifact(file: package.appendingPathComponent(file), to: "model/\(file)", under: run.artifactUri)
        }
        let remote = try client.createModelVersion(
            version.model, source: run.artifactUri + "/model", runID: run.runId,
            tags: [
                Self.versionTag: String(version.version), Self.packageShaTag: version.packageSha256,
                "fishops.created_by": version.createdBy,
            ])
        try store.setMirrorID("version", "\(version.model)/\(version.version)", remote: remote)
    }

    /// The run that holds the package of a version registered without one, in experiment
    /// `fishops-packages`, found again by its `fishops.package_of` tag.
    private func packageRun(for version: ModelVersion) throws -> (runId: String, artifactUri: String) {
        let experimentID = try experimentID("fishops-packages")
        let key = "\(version.model)/\(version.version)"
        let run =
            try client.searchRuns(experimentID: experimentID, filter: "tags.`fishops.package_of` = '\(key)'").first
            ?? client.createRun(
                experimentID: experimentID, name: "\(version.model)-v\(version.version)", startTime: version.createdAt,
                user: version.createdBy, tags: ["fishops.package_of": key, "mlflow.user": version.createdBy])
        return (run.runId, run.artifactUri)
    }

    private func remoteVersion(_ model: String, _ version: Int) throws -> String {
        guard let remote = try store.mirrorID("version", "\(model)/\(version)") else {
            throw Unsendable(reason: "\(model) v\(version) is not on the MLflow server (its registration was not mirrored)")
        }
        return remote
    }

    /// An audit entry as a tag of the version it concerns (MLflow keeps no alias history), and an
    /// applied alias move as the server's alias.
    private func replay(_ entry: AuditEntry) throws {
        guard let version = entry.toVersion else { return }
        let remote = try remoteVersion(entry.model, version)
        let line = [
            Self.isoDate(entry.at), "\(entry.actor)@\(entry.host)", entry.action.rawValue, entry.alias ?? "",
            entry.fromVersion.map { "v\($0) ->" } ?? "", "v\(version)", entry.outcome.rawValue, entry.reason, entry.detail,
        ].filter { !$0.isEmpty }.joined(separator: " ")
        try client.setVersionTag(
            entry.model, version: remote, key: String(format: "fishops.audit.%06lld", entry.id ?? 0), value: line)
        if entry.outcome == .applied, let alias = entry.alias {
            try client.setAlias(entry.model, alias: alias, version: remote)
        }
    }

    /// The files under `folder`, as paths relative to it, sorted.
    static func files(in folder: URL) throws -> [String] {
        guard let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
        else {
            throw Unsendable(reason: "the model package \(folder.path) is missing")
        }
        var files: [String] = []
        let prefix = folder.standardizedFileURL.path + "/"
        for case let url as URL in enumerator where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true
        {
            files.append(String(url.standardizedFileURL.path.dropFirst(prefix.count)))
        }
        return files.sorted()
    }

    /// An entry that cannot be sent, ever: what it refers to never reached the server, or is gone here.
    struct Unsendable: Error {
        let reason: String
    }

    private static func isoDate(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
}
