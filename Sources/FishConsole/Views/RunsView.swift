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

    var isStale: Bool { loader?.isStale() ?? false }

    func refresh(_ app: ConsoleApp, force: Bool) {
        let context = app.context
        if loader == nil { loader = app.loader(interval: 3) }
        let work: @Sendable () throws -> [RunSummary] = { try TrackingService(context: context).runs() }
        loader?.refresh(force: force, work)
    }

    /// The runs shown, in order, with the chosen metric.
    private func visibleRuns() -> (runs: [RunSummary], metric: String?) {
        RunsRows.visible(loader?.value ?? [], filter: filter, sort: RunsRows.sorts[sortIndex], metricIndex: metricIndex)
    }

    /// Puts the visible runs into the table (before keys move the selection, and before drawing).
    private func syncTable() {
        let (runs, metric) = visibleRuns()
        table.columns[4] = .init(RunsRows.metricColumn(metric))
        table.update(RunsRows.rows(runs, metric: metric, marked: marked))
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
            sortIndex = (sortIndex + 1) % RunsRows.sorts.count
            app.say("sorted by \(RunsRows.sorts[sortIndex])")
        default: return table.move(key)
        }
        return true
    }

    func render(_ canvas: inout Canvas, in area: Rect, app: ConsoleApp) {
        syncTable()
        let title = RunsRows.title(
            count: table.rows.count, sort: RunsRows.sorts[sortIndex], filter: filter, marked: marked.count)
        canvas.tableBox(&table, title: title, error: loader?.error, in: area, app: app)
    }
}
