import FishServices
import Foundation

/// Marked runs side by side: only the parameters that differ, best and last per metric, and one
/// metric's curves overlaid (`m` picks the next).
final class CompareView: ConsoleView {
    let name = "compare", title = "compare"
    let actions = [Action("metric", .character("m"), "chart the next metric")]
    private let runIds: [String]
    /// The charted metric: the first validation metric, then whatever `m` picks.
    private var metric: String?
    private var comparison: Loader<TrackingService.Comparison>?
    private var curves: Loader<[[Double]]>?

    init(runIds: [String]) {
        self.runIds = runIds
    }

    func refresh(_ app: ConsoleApp, force: Bool) {
        let context = app.context
        let runIds = self.runIds
        if comparison == nil {
            comparison = app.loader(interval: 60)
            comparison?.load { try TrackingService(context: context).compare(runIds) }
        }
        guard curves == nil, let keys = comparison?.value.map({ Array($0.metrics.keys).sorted() }) else { return }
        if metric == nil { metric = keys.first { $0.hasPrefix("val_") } ?? keys.first }
        let metric = self.metric
        curves = app.loader(interval: 60)
        curves?.load {
            guard let metric else { return [] }
            return try runIds.map { try TrackingService(context: context).metricHistory($0, key: metric).map(\.value) }
        }
    }

    func handle(_ key: Key, action: Action?, app: ConsoleApp) -> Bool {
        guard action?.id == "metric", let keys = comparison?.value.map({ Array($0.metrics.keys).sorted() }), !keys.isEmpty else {
            return false
        }
        metric = keys[((metric.flatMap { keys.firstIndex(of: $0) } ?? -1) + 1) % keys.count]
        curves = nil
        refresh(app, force: true)
        return true
    }

    func render(_ canvas: inout Canvas, in area: Rect, app: ConsoleApp) {
        guard let comparison = comparison?.value else {
            canvas.write(
                self.comparison?.error.map { "\($0)" } ?? "loading...", x: area.x + 1, y: area.y + 1, style: app.style("ui.muted")
            )
            return
        }
        let (top, bottom) = area.split(top: area.height / 2)
        let nameWidth = 18
        var columns: [Table.Column] = [.init("", width: 18)]
        columns += comparison.names.map { .init($0, width: nameWidth) }
        var table = Table(columns: columns)
        table.update(TrackingRows.comparison(comparison))
        canvas.tableBox(
            &table, title: "differing params, then metrics (best / last)", error: nil, in: top, app: app, focused: false)
        canvas.panel(bottom, title: metric ?? "no metric", app: app)
        let series = zip(comparison.names, curves?.value ?? []).map { Chart.Series($0, $1) }
        Chart(series).render(&canvas, in: bottom.inset(1), app: app)
    }
}
