public import FishRecords
import Foundation
import GRDB

extension Store {
    /// Registers the next version of `model` (creating the model on first use). `writePackage`
    /// runs inside the transaction with the new version number and returns the package's sha256
    /// and folder (relative to the home): the version exists exactly when its package does.
    public func registerVersion(
        model: String, sourceRunId: String? = nil, actor: ActingUser, reason: String = "",
        writePackage: (Int) throws -> (sha256: String, path: String)
    ) throws(StoreError) -> ModelVersion {
        guard Self.isValidName(model) else {
            throw .invalid("model name \(model) must be 1-64 letters, digits, '.', '_' or '-'")
        }
        return try write { db in
            if try RegisteredModel.fetchOne(db, key: model) == nil {
                try RegisteredModel(name: model, createdAt: Date(), createdBy: actor.user).insert(db)
            }
            let next =
                (try Int.fetchOne(db, sql: "SELECT MAX(version) FROM model_versions WHERE model = ?", arguments: [model]) ?? 0)
                + 1
            let package = try writePackage(next)
            let version = ModelVersion(
                model: model, version: next, packageSha256: package.sha256, packagePath: package.path,
                sourceRunId: sourceRunId, createdBy: actor.user, createdAt: Date())
            try version.insert(db)
            try enqueue(db, .versionRegistered(version))
            try audit(
                db, actor: actor, model: model, action: .registerVersion, alias: nil, from: nil, to: next,
                outcome: .applied, reason: reason, detail: "package \(package.sha256)")
            return version
        }
    }

    /// Records metrics of a version measured on one evaluation data set.
    public func addEvaluation(model: String, version: Int, evaluationData: String, metrics: [String: Double]) throws(StoreError) {
        try write { db in
            guard try ModelVersion.fetchOne(db, key: ["model": model, "version": version]) != nil else {
                throw StoreError.notFound("\(model) v\(version) not found")
            }
            let evaluation = VersionEvaluation(
                model: model, version: version, evaluationData: evaluationData, metrics: metrics, createdAt: Date())
            try evaluation.insert(db)
            try enqueue(db, .evaluation(evaluation))
        }
    }

    /// Evaluations of a version, oldest first.
    public func evaluations(model: String, version: Int) throws(StoreError) -> [VersionEvaluation] {
        try read { db in
            try VersionEvaluation.filter(Column("model") == model && Column("version") == version)
                .order(Column("createdAt")).fetchAll(db)
        }
    }

    /// All registered models, by name.
    public func models() throws(StoreError) -> [ModelOverview] {
        try read { db in
            let aliasRows = try Row.fetchAll(db, sql: "SELECT model, alias, version FROM aliases")
            var aliases: [String: [String: Int]] = [:]
            for row in aliasRows { aliases[row["model"], default: [:]][row["alias"]] = row["version"] }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT m.name, m.createdAt, MAX(v.version) AS latest, COUNT(v.version) AS count
                    FROM registered_models m LEFT JOIN model_versions v ON v.model = m.name
                    GROUP BY m.name ORDER BY m.name
                    """
            ).map { row in
                ModelOverview(
                    name: row["name"], createdAt: row["createdAt"], latestVersion: row["latest"],
                    versionCount: row["count"], aliases: aliases[row["name"]] ?? [:])
            }
        }
    }

    /// Versions of `model`, oldest first.
    public func versions(model: String) throws(StoreError) -> [ModelVersion] {
        try read { db in
            try ModelVersion.filter(Column("model") == model).order(Column("version")).fetchAll(db)
        }
    }

    /// One version of `model`.
    public func version(model: String, _ version: Int) throws(StoreError) -> ModelVersion {
        let found = try read { db in try ModelVersion.fetchOne(db, key: ["model": model, "version": version]) }
        guard let found else { throw .notFound("\(model) v\(version) not found; see `fishops models show \(model)`") }
        return found
    }

    /// The aliases of `model` and the versions they point at.
    public func aliases(model: String) throws(StoreError) -> [String: Int] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT alias, version FROM aliases WHERE model = ?", arguments: [model])
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["alias"], $0["version"]) })
        }
    }

    /// Moves `alias` of `model` to `version` in one transaction, if it still points where the
    /// caller expects (compare-and-swap), and appends the attempt to the audit log either way.
    public func moveAlias(
        model: String, alias: String, to version: Int, expected: ExpectedHolder, action: AuditAction,
        actor: ActingUser, reason: String
    ) throws(StoreError) -> AliasMove {
        guard Self.isValidName(alias) else { throw .invalid("alias \(alias) must be 1-64 letters, digits, '.', '_' or '-'") }
        enum Outcome {
            case moved(AliasMove)
            case conflict(current: Int?)
        }
        let outcome: Outcome = try write { db in
            guard try ModelVersion.fetchOne(db, key: ["model": model, "version": version]) != nil else {
                throw StoreError.notFound("\(model) v\(version) not found; see `fishops models show \(model)`")
            }
            let current = try Int.fetchOne(
                db, sql: "SELECT version FROM aliases WHERE model = ? AND alias = ?", arguments: [model, alias])
            let matches: Bool
            switch expected {
            case .unchecked: matches = true
            case .vacant: matches = current == nil
            case let .version(expectedVersion): matches = current == expectedVersion
            }
            guard matches else {
                try audit(
                    db, actor: actor, model: model, action: action, alias: alias, from: current, to: version,
                    outcome: .conflict, reason: reason, detail: Self.conflictDetail(current: current, expected: expected))
                return .conflict(current: current)
            }
            try db.execute(
                sql: "INSERT OR REPLACE INTO aliases (model, alias, version, updatedAt) VALUES (?, ?, ?, ?)",
                arguments: [model, alias, version, Date()])
            let id = try audit(
                db, actor: actor, model: model, action: action, alias: alias, from: current, to: version,
                outcome: .applied, reason: reason, detail: "")
            return .moved(AliasMove(model: model, alias: alias, fromVersion: current, toVersion: version, auditId: id))
        }
        switch outcome {
        case let .moved(move): return move
        case let .conflict(current):
            throw Self.conflict(model: model, alias: alias, current: current, expected: expected)
        }
    }

    /// Appends an attempt that moved nothing (a failed promotion gate, a stale expectation) to the audit log.
    public func recordRefusal(
        model: String, alias: String, from: Int?, to: Int, action: AuditAction, actor: ActingUser,
        reason: String, detail: String, outcome: AuditOutcome = .refused
    ) throws(StoreError) {
        _ = try write { db in
            try audit(
                db, actor: actor, model: model, action: action, alias: alias, from: from, to: to,
                outcome: outcome, reason: reason, detail: detail)
        }
    }

    /// The error for an alias that moved away from what the caller expected.
    public static func conflict(model: String, alias: String, current: Int?, expected: ExpectedHolder) -> StoreError {
        .conflict(
            "\(alias) of \(model) changed meanwhile: it now points at \(describe(current)), "
                + "not \(describe(expected)); review `fishops models history \(model)` and retry")
    }

    /// The audit detail of a stale expectation.
    public static func conflictDetail(current: Int?, expected: ExpectedHolder) -> String {
        "expected \(describe(expected)), found \(describe(current))"
    }

    /// The audit log of `model`, oldest first.
    public func auditLog(model: String) throws(StoreError) -> [AuditEntry] {
        try read { db in try AuditEntry.filter(Column("model") == model).order(Column("id")).fetchAll(db) }
    }

    /// The version `alias` pointed at before the promotion that moved it to its current holder.
    public func previousHolder(model: String, alias: String) throws(StoreError) -> (current: Int, previous: Int)? {
        try read { db in
            guard
                let current = try Int.fetchOne(
                    db, sql: "SELECT version FROM aliases WHERE model = ? AND alias = ?",
                    arguments: [model, alias]),
                let previous = try Int.fetchOne(
                    db,
                    sql: """
                        SELECT fromVersion FROM audit_log
                        WHERE model = ? AND alias = ? AND action = 'promote' AND outcome = 'applied' AND toVersion = ?
                          AND fromVersion IS NOT NULL
                        ORDER BY id DESC LIMIT 1
                        """, arguments: [model, alias, current])
            else { return nil }
            return (current, previous)
        }
    }

    @discardableResult
    private func audit(
        _ db: Database, actor: ActingUser, model: String, action: AuditAction, alias: String?,
        from: Int?, to: Int?, outcome: AuditOutcome, reason: String, detail: String
    ) throws -> Int64 {
        var entry = AuditEntry(
            id: nil, at: Date(), actor: Self.printable(actor.user), host: Self.printable(actor.host), model: model,
            action: action,
            alias: alias, fromVersion: from, toVersion: to, outcome: outcome, reason: Self.printable(reason),
            detail: Self.printable(detail))
        try entry.insert(db)
        entry.id = db.lastInsertedRowID
        try enqueue(db, .audit(entry))
        if action != .registerVersion, let alias, outcome != .conflict {
            var payload: [String: any Sendable] = [
                "model": model, "alias": alias, "to_version": to ?? 0, "action": action.rawValue, "actor": entry.actor,
                "host": entry.host, "reason": entry.reason, "detail": entry.detail, "audit_id": entry.id ?? 0,
            ]
            if let from { payload["from_version"] = from }
            try raise(db, outcome == .applied ? .aliasMoved : .promotionRefused, payload: payload)
        }
        return entry.id ?? 0
    }

    /// `text` with control characters (newlines, escape sequences) written as `\u{..}`, so an
    /// audit line cannot be forged or repaint a terminal.
    static func printable(_ text: String) -> String {
        text.unicodeScalars.map { scalar in
            scalar.properties.generalCategory == .control ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
        }.joined()
    }

    private static func describe(_ expected: ExpectedHolder) -> String {
        switch expected {
        case .unchecked: return "any version"
        case .vacant: return "nothing"
        case let .version(version): return "v\(version)"
        }
    }

    private static func describe(_ version: Int?) -> String { version.map { "v\($0)" } ?? "nothing" }

    static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }
}
