import FishServices
import Foundation

/// The versions of one model with their aliases and gate metric; promotion and rollback go
/// through a dialog that shows the gate's verdict and the alias move, and asks for a reason.
final class VersionsView: ConsoleView {
    let name = "versions"
    let title: String
    let actions = [
        Action("promote", .character("p"), "promote to production", dangerous: true),
        Action("stage", .character("S"), "move staging here", dangerous: true),
        Action("rollback", .character("r"), "roll production back", dangerous: true),
        Action("history", .character("h"), "audit history"),
    ]
    private let model: String
    private var loader: Loader<RegistryService.ModelDetail>?
    private var table = Table(columns: [
        .init("version", width: 7), .init("aliases", width: 20), .init("created", width: 16),
        .init("by", width: 10), .init("evaluation"),
    ])

    init(model: String) {
        self.model = model
        title = model
    }

    var isStale: Bool { loader?.isStale() ?? false }

    func refresh(_ app: ConsoleApp, force: Bool) {
        let context = app.context
        let model = self.model
        if loader == nil { loader = app.loader(interval: 3) }
        let work: @Sendable () throws -> RegistryService.ModelDetail = {
            try RegistryService(context: context).detail(model: model)
        }
        loader?.refresh(force: force, work)
    }

    private var versions: [RegistryService.VersionDetail] { (loader?.value?.versions ?? []).reversed() }

    private func syncTable(gateMetric metric: String) { table.update(RegistryRows.versions(versions, gateMetric: metric)) }

    func handle(_ key: Key, action: Action?, app: ConsoleApp) -> Bool {
        syncTable(gateMetric: app.context.config.gateMetric)
        let selected = versions.indices.contains(table.selected) ? versions[table.selected].version.version : nil
        switch action?.id {
        case "promote"?: if let selected { askToMove(alias: "production", to: selected, app: app) }
        case "stage"?: if let selected { askToMove(alias: "staging", to: selected, app: app) }
        case "rollback"?: askToRollback(app: app)
        case "history"?: app.push(HistoryView(model: model))
        default: return table.move(key)
        }
        return true
    }

    /// Computes the gate in the background, then asks with the verdict and the move spelled out.
    private func askToMove(alias: String, to version: Int, app: ConsoleApp) {
        let context = app.context
        let model = self.model
        let verdict = app.loader(interval: 60, of: RegistryService.GateResult.self)
        app.say("checking the gate for \(model) v\(version)...")
        verdict.load { try RegistryService(context: context).gate(model: model, version: version, alias: alias) }
        app.whenLoaded(verdict) { [weak self] result, app in
            switch result {
            case let .failure(error): app.say("\(error)", isError: true)
            case let .success(gate):
                let from = gate.currentVersion.map { "v\($0)" } ?? "nothing"
                var lines = ["\(alias) of \(model) moves from \(from) to v\(version).", "gate: \(gate.explanation)"]
                if !gate.passed { lines.append("The gate refuses: confirming forces the move (audited as forced).") }
                app.confirm(
                    Dialog(title: gate.passed ? "promote" : "force promote", lines: lines, askReason: true, dangerous: true) {
                        reason in
                        self?.move(
                            alias: alias, to: version, expected: gate.currentVersion, force: !gate.passed, reason: reason,
                            app: app)
                    })
            }
        }
    }

    private func move(alias: String, to version: Int, expected: Int?, force: Bool, reason: String, app: ConsoleApp) {
        let context = app.context
        let model = self.model
        let holder: ExpectedHolder = expected.map(ExpectedHolder.version) ?? .vacant
        change(app) {
            let promotion = try RegistryService(context: context).promote(
                model: model, version: version, alias: alias, reason: reason,
                force: force, expected: holder)
            return promotion.move.sentence
        }
    }

    /// Runs a registry change in the background, then reports it (logged and in the footer) and reloads.
    private func change(_ app: ConsoleApp, _ work: @escaping @Sendable () throws -> String) {
        let log = app.log
        let done = app.loader(interval: 60, of: String.self)
        done.load {
            let message = try work()
            log.add(message)
            return message
        }
        app.whenLoaded(done) { [weak self] result, app in
            switch result {
            case let .success(message): app.notice = (message, false)
            case let .failure(error): app.say("\(error)", isError: true)
            }
            self?.refresh(app, force: true)
        }
    }

    private func askToRollback(app: ConsoleApp) {
        let context = app.context
        let model = self.model
        let target = app.loader(interval: 60, of: Optional<(current: Int, previous: Int)>.self)
        target.load { try RegistryService(context: context).rollbackTarget(model: model) }
        app.whenLoaded(target) { [weak self] result, app in
            guard case let .success(found) = result, let (current, previous) = found else {
                return app.say("production of \(model) has no previous version to roll back to", isError: true)
            }
            app.confirm(
                Dialog(
                    title: "rollback", lines: ["production of \(model) moves back from v\(current) to v\(previous)."],
                    askReason: true, dangerous: true
                ) { reason in
                    self?.rollback(reason: reason, app: app)
                })
        }
    }

    private func rollback(reason: String, app: ConsoleApp) {
        let context = app.context
        let model = self.model
        change(app) {
            let move = try RegistryService(context: context).rollback(model: model, reason: reason)
            return "production of \(model) rolled back from v\(move.fromVersion ?? 0) to v\(move.toVersion)"
        }
    }

    func render(_ canvas: inout Canvas, in area: Rect, app: ConsoleApp) {
        syncTable(gateMetric: app.context.config.gateMetric)
        canvas.tableBox(&table, title: "\(model) versions", error: loader?.error, in: area, app: app)
    }
}

/// The audit log of one model: every alias move and version change, who, when, from → to, why.
final class HistoryView: ConsoleView {
    let name = "history"
    let title: String
    private let model: String
    private var loader: Loader<[AuditEntry]>?
    private var table = Table(columns: [
        .init("when", width: 16), .init("who", width: 9), .init("action", width: 18),
        .init("move", width: 8), .init("outcome", width: 8), .init("reason"),
    ])

    init(model: String) {
        self.model = model
        title = "\(model) history"
    }

    var isStale: Bool { loader?.isStale() ?? false }

    func refresh(_ app: ConsoleApp, force: Bool) {
        let context = app.context
        let model = self.model
        if loader == nil { loader = app.loader(interval: 3) }
        let work: @Sendable () throws -> [AuditEntry] = { try RegistryService(context: context).history(model: model) }
        loader?.refresh(force: force, work)
    }

    func handle(_ key: Key, action: Action?, app: ConsoleApp) -> Bool {
        syncTable()
        return table.move(key)
    }

    private func syncTable() { table.update(RegistryRows.history(loader?.value ?? [])) }

    func render(_ canvas: inout Canvas, in area: Rect, app: ConsoleApp) {
        syncTable()
        canvas.tableBox(&table, title: title, error: loader?.error, in: area, app: app)
    }
}
