public import FishRecords
public import Foundation
import GRDB

extension Store {
    /// The experiment named `name`, created if it does not exist.
    public func experiment(named name: String) throws(StoreError) -> Experiment {
        guard !name.isEmpty else { throw .invalid("an experiment needs a name") }
        return try write { db in
            if let existing = try Experiment.filter(Column("name") == name).fetchOne(db) { return existing }
            var experiment = Experiment(id: nil, name: name, createdAt: Date())
            try experiment.insert(db)
            experiment.id = db.lastInsertedRowID
            return experiment
        }
    }

    /// Starts a run in `experiment` (created if needed).
    public func startRun(
        experiment name: String, runName: String? = nil, parent: String? = nil,
        datasetFingerprint: String? = nil, user: String, host: String
    ) throws(StoreError) -> Run {
        let experiment = try experiment(named: name)
        guard let experimentId = experiment.id else { throw .invalid("experiment \(name) has no id") }
        let id = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let run = Run(
            id: id, experimentId: experimentId, name: runName ?? "run-\(id.prefix(8))", status: .running,
            startTime: Date(), endTime: nil, user: Self.printable(user), host: Self.printable(host),
            datasetFingerprint: datasetFingerprint, parentRunId: parent)
        try write { db in
            try run.insert(db)
            try enqueue(db, .runStarted(run, experiment: name))
        }
        return run
    }

    /// Ends a run with a final status.
    public func endRun(_ id: String, status: RunStatus) throws(StoreError) {
        guard status != .running else { throw .invalid("a run ends as FINISHED, FAILED or KILLED") }
        let endTime = Date()
        try write { db in
            try db.execute(sql: "UPDATE runs SET status = ?, endTime = ? WHERE id = ?", arguments: [status, endTime, id])
            if db.changesCount == 0 { throw StoreError.notFound("run \(id) not found") }
            try enqueue(db, .runEnded(runId: id, status: status, endTime: endTime))
        }
    }

    /// Logs parameters; like MLflow, a parameter keeps its first value (logging a different one is an error).
    public func logParams(_ id: String, _ params: [String: String]) throws(StoreError) {
        try write { db in
            var added: [String: String] = [:]
            for (key, value) in params {
                if let existing = try String.fetchOne(
                    db, sql: "SELECT value FROM params WHERE runId = ? AND key = ?", arguments: [id, key])
                {
                    if existing != value { throw StoreError.invalid("param \(key) of run \(id) is already \(existing)") }
                    continue
                }
                try db.execute(sql: "INSERT INTO params (runId, key, value) VALUES (?, ?, ?)", arguments: [id, key, value])
                added[key] = value
            }
            if !added.isEmpty { try enqueue(db, .params(runId: id, added)) }
        }
    }

    /// Sets tags (a tag can be overwritten).
    public func setTags(_ id: String, _ tags: [String: String]) throws(StoreError) {
        try write { db in
            for (key, value) in tags {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO tags (runId, key, value) VALUES (?, ?, ?)", arguments: [id, key, value])
            }
            if !tags.isEmpty { try enqueue(db, .tags(runId: id, tags)) }
        }
    }

    /// Declares whether smaller or larger values of `key` are better (before its first point).
    public func declareMetric(_ key: String, direction: MetricDirection) throws(StoreError) {
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO metric_keys (key, direction) VALUES (?, ?)", arguments: [key, direction])
        }
    }

    /// Logs metric points in one transaction and updates each metric's best and last value.
    public func logMetrics(_ id: String, _ points: [MetricPoint]) throws(StoreError) {
        guard !points.isEmpty else { return }
        if let bad = points.first(where: { !$0.value.isFinite }) {
            throw .invalid("metric \(bad.key) at step \(bad.step) is \(bad.value); only finite values can be logged")
        }
        try write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM runs WHERE id = ?", arguments: [id]) != nil else {
                throw StoreError.notFound("run \(id) not found")
            }
            let insert = try db.cachedStatement(
                sql: "INSERT INTO metrics (runId, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)")
            var summaries: [String: MetricSummary] = [:]
            for point in points {
                try insert.execute(arguments: [id, point.key, point.value, point.step, point.timestamp])
                var summary: MetricSummary
                if let known = summaries[point.key] {
                    summary = known
                } else if let stored = try MetricSummary.fetchOne(db, key: ["runId": id, "key": point.key]) {
                    summary = stored
                } else {
                    let direction = try direction(of: point.key, in: db)
                    summary = MetricSummary(
                        runId: id, key: point.key, direction: direction, bestValue: point.value,
                        bestStep: point.step, lastValue: point.value, lastStep: point.step, count: 0)
                }
                if summary.count == 0 || summary.direction.prefers(point.value, over: summary.bestValue) {
                    summary.bestValue = point.value
                    summary.bestStep = point.step
                }
                if summary.count == 0 || point.step >= summary.lastStep {
                    summary.lastValue = point.value
                    summary.lastStep = point.step
                }
                summary.count += 1
                summaries[point.key] = summary
            }
            for summary in summaries.values { try summary.save(db) }
            try enqueue(db, .metrics(runId: id, points))
        }
    }

    /// Whether smaller or larger values of `key` are better: as declared, or as inferred from its name.
    public func direction(ofMetric key: String) throws(StoreError) -> MetricDirection {
        try read { db in
            try MetricDirection.fetchOne(db, sql: "SELECT direction FROM metric_keys WHERE key = ?", arguments: [key])
        } ?? MetricDirection.inferred(for: key)
    }

    /// The direction declared for `key`, or inferred and recorded on first use.
    private func direction(of key: String, in db: Database) throws -> MetricDirection {
        if let declared = try MetricDirection.fetchOne(
            db, sql: "SELECT direction FROM metric_keys WHERE key = ?", arguments: [key])
        {
            return declared
        }
        let inferred = MetricDirection.inferred(for: key)
        try db.execute(sql: "INSERT INTO metric_keys (key, direction) VALUES (?, ?)", arguments: [key, inferred])
        return inferred
    }

    /// Stores `data` as artifact `path` of a run (content-addressed: identical content is stored once).
    public func logArtifact(_ id: String, path: String, data: Data) throws(StoreError) -> ArtifactRecord {
        let digest = try artifacts.put(data)
        let record = ArtifactRecord(runId: id, path: path, sha256: digest, size: Int64(data.count))
        try write { db in
            try record.save(db)
            try enqueue(db, .artifact(record))
        }
        return record
    }

    /// Runs, newest first, with their metric summaries.
    public func runs(experiment: String? = nil, limit: Int? = nil) throws(StoreError) -> [RunSummary] {
        try read { db in
            var sql =
                "SELECT runs.*, experiments.name AS experimentName FROM runs JOIN experiments ON experiments.id = runs.experimentId"
            var arguments: StatementArguments = []
            if let experiment {
                sql += " WHERE experiments.name = ?"
                arguments += [experiment]
            }
            sql += " ORDER BY runs.startTime DESC"
            if let limit { sql += " LIMIT \(max(limit, 0))" }
            let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
            var summaries: [String: [MetricSummary]] = [:]
            let all =
                experiment == nil && limit == nil
                ? try MetricSummary.fetchAll(db)
                : try MetricSummary.filter(rows.map { $0["id"] as String }.contains(Column("runId"))).fetchAll(db)
            for summary in all { summaries[summary.runId, default: []].append(summary) }
            return try rows.map { row in
                let run = try Run(row: row)
                return RunSummary(
                    run: run, experiment: row["experimentName"],
                    metrics: (summaries[run.id] ?? []).sorted { $0.key < $1.key })
            }
        }
    }

    /// One run by id or unique id prefix.
    public func run(_ reference: String) throws(StoreError) -> RunDetail {
        try read { db in
            let matches = try Run.filter(sql: "id LIKE ?", arguments: [reference + "%"]).limit(2).fetchAll(db)
            guard let run = matches.first else {
                throw StoreError.notFound("run \(reference) not found; see `fishops runs list`")
            }
            guard matches.count == 1 else {
                throw StoreError.invalid("run prefix \(reference) is ambiguous; give more characters")
            }
            let experiment =
                try String.fetchOne(db, sql: "SELECT name FROM experiments WHERE id = ?", arguments: [run.experimentId]) ?? ""
            let params = try Row.fetchAll(db, sql: "SELECT key, value FROM params WHERE runId = ?", arguments: [run.id])
            let tags = try Row.fetchAll(db, sql: "SELECT key, value FROM tags WHERE runId = ?", arguments: [run.id])
            return RunDetail(
                run: run, experiment: experiment,
                params: Dictionary(uniqueKeysWithValues: params.map { ($0["key"], $0["value"]) }),
                tags: Dictionary(uniqueKeysWithValues: tags.map { ($0["key"], $0["value"]) }),
                metrics: try MetricSummary.filter(Column("runId") == run.id).order(Column("key")).fetchAll(db),
                artifacts: try ArtifactRecord.filter(Column("runId") == run.id).order(Column("path")).fetchAll(db))
        }
    }

    /// The runs started under `parent` (trials), oldest first.
    public func childRuns(of parent: String) throws(StoreError) -> [Run] {
        try read { db in try Run.filter(Column("parentRunId") == parent).order(Column("startTime")).fetchAll(db) }
    }

    /// Every point of one metric of a run, by step.
    public func metricHistory(_ id: String, key: String) throws(StoreError) -> [MetricPoint] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT value, step, timestamp FROM metrics WHERE runId = ? AND key = ? ORDER BY step, rowid",
                arguments: [id, key]
            ).map { MetricPoint(key: key, value: $0["value"], step: $0["step"], timestamp: $0["timestamp"]) }
        }
    }
}
