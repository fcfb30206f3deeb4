import FishServices
import Foundation

/// `:runs`: every run with the best and last value of one metric (chosen with `m`), filtered
/// with `/`, sorted with `s`; space marks runs, `c` compares them, Enter opens one.
final class RunsView: ConsoleView, Filterable {
    let name = "runs", title = "runs"
    let actions = [
        Action("open", .enter, "open the run"),
        Action("mark", .character(" "), "mark for comparison"),
        Action("compare", .character("c"), "compare marked runs"),
        Action("metric", .character("m"), "next metric column"),
        Action("sort", .character("s"), "next sort order"),
    ]
    var filter = ""
    private var loader: Loader<[RunSummary]>?
    private var table = Table(columns: [
        .init("run", width: 20), .init("experiment", width: 16), .init("status", width: 9),
        .init("started", width: 16), .init("best / last"),
    ])
    private var marked: Set<String> = []
    private var metricIndex = 0
    private var sortIndex = 0
    private static let sorts = ["newest", "name", "status", "best"]

    var isStale: Bool { loader?.isStale() ?? false }

    func refresh(_ app: ConsoleApp, force: Bool) {
        let context = app.context
        if loader == nil { loader = app.loader(interval: 3) }
        let work: @Sendable () throws -> [RunSummary] = { try TrackingService(context: context).runs() }
        loader?.refresh(force: force, work)
    }

    /// Metric keys present in the runs, most common first.
    private func metricKeys(_ runs: [RunSummary]) -> [String] {
        var counts: [String: Int] = [:]
        for run in runs { for metric in run.metrics { counts[metric.key, default: 0] += 1 } }
        let preferred = ["test_macro_f1", "val_accuracy", "val_loss"]
        return counts.keys.sorted { a, b in
            let (pa, pb) = (preferred.firstIndex(of: a) ?? 99, preferred.firstIndex(of: b) ?? 99)
            return pa != pb ? pa < pb : counts[a] ?? 0 != counts[b] ?? 0 ? counts[a] ?? 0 > counts[b] ?? 0 : a < b
        }
    }

    /// The runs shown, in order, with the chosen metric.
    private func visibleRuns() -> (runs: [RunSummary], metric: String?) {
        let all = loader?.value ?? []
        let keys = metricKeys(all)
        let metric = keys.isEmpty ? nil : keys[metricIndex % keys.count]
        var runs = all.filter {
            filter.isEmpty
                || "\($0.run.name) \($0.experiment) \($0.run.status.rawValue) \($0.run.id)".localizedCaseInsensitiveContains(
                    filter)
        }
        let summary = { (run: RunSummary) in run.metrics.first { $0.key == metric } }
        switch Self.sorts[sortIndex] {
        case "name": runs.sort { $0.run.name < $1.run.name }
        case "status": runs.sort { $0.run.status.rawValue < $1.run.status.rawValue }
        case "best":
            runs.sort { a, b in
                guard let x = summary(a) else { return false }
                guard let y = summary(b) else { return true }
                return x.direction.prefers(x.bestValue, over: y.bestValue)
            }
        default: runs.sort { $0.run.startTime > $1.run.startTime }
        }
        return (runs, metric)
    }

    /// Puts the visible runs into the table (before keys move the selection, and before drawing).
    private func syncTable() {
        let (runs, metric) = visibleRuns()
        table.columns[4] = .init(metric.map { "\($0) best / last" } ?? "metrics")
        table.update(
            runs.map { run in
                let value =
                    run.metrics.first { $0.key == metric }.map {
                        "\(Format.number($0.bestValue)) / \(Format.number($0.lastValue))"
                    } ?? ""
                let name = (run.run.parentRunId != nil ? "  " : "") + run.run.name
                return Table.Row(
                    [name, run.experiment, run.run.status.rawValue, Format.date(run.run.startTime), value],
                    role: Format.role(run.run.status), marked: marked.contains(run.run.id))
            })
    }

    func handle(_ key: Key, action: Action?, app: ConsoleApp) -> Bool {
        syncTable()
        let (runs, _) = visibleRuns()
        let selected = runs.indices.contains(table.selected) ? runs[table.selected] : nil
        switch action?.id {
        case "open"?:
            if let selected { app.push(RunDetailView(runId: selected.run.id, name: selected.run.name)) }
        case "mark"?:
            if let id = selected?.run.id {
                if marked.contains(id) { marked.remove(id) } else { marked.insert(id) }
                _ = table.move(.down)
            }
        case "compare"?:
            guard marked.count >= 2 else {
                app.say("mark two or more runs with space first", isError: true)
                return true
            }
            let ids = runs.map(\.run.id).filter { marked.contains($0) }
            app.push(CompareView(runIds: ids))
        case "metric"?: metricIndex += 1
        case "sort"?:
            sortIndex = (sortIndex + 1) % Self.sorts.count
            app.say("sorted by \(Self.sorts[sortIndex])")
        default: return table.move(key)
        }
        return true
    }

    func render(_ canvas: inout Canvas, in area: Rect, app: ConsoleApp) {
        syncTable()
        let runs = visibleRuns().runs
        var title = "runs (\(runs.count))  sort: \(Self.sorts[sortIndex])"
        if !filter.isEmpty { title += "  filter: \(filter)" }
        if !marked.isEmpty { title += "  marked: \(marked.count)" }
        canvas.box(
            area, title: title, glyphs: app.settings.glyphs, style: app.style("ui.border.focus"),
            titleStyle: app.style("ui.title"))
        if let error = loader?.error {
            canvas.write(
                app.settings.glyphs.fit("\(error)", area.width - 4), x: area.x + 2, y: area.y + 1, style: app.style("ui.error"))
            return
        }
        table.render(&canvas, in: area.inset(1), app: app)
    }
}
