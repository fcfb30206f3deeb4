import FishServices
import Foundation

/// One run: parameters, metrics (best and last), a chart of one metric's history (`m` picks it),
/// and, for training runs, the per-class table and confusion matrix (`e`).
final class RunDetailView: ConsoleView {
    let name = "run"
    let title: String
    let actions = [
        Action("metric", .character("m"), "chart the next metric"),
        Action("evaluation", .character("e"), "evaluation / chart"),
    ]
    private let runId: String
    private var detail: Loader<RunDetail>?
    private var history: Loader<[MetricPoint]>?
    private var evaluation: Loader<ClassificationMetrics?>?
    /// The run's id on the MLflow server it is mirrored to.
    private var mlflowRunID: Loader<String?>?
    private var metricIndex = 0
    private var showEvaluation = false

    init(runId: String, name: String) {
        self.runId = runId
        title = name
    }

    private var chartedMetric: String? { TrackingRows.chartedMetric(detail?.value?.metrics ?? [], index: metricIndex) }

    func refresh(_ app: ConsoleApp, force: Bool) {
        let context = app.context
        let runId = self.runId
        if detail == nil {
            detail = app.loader(interval: 3)
            history = app.loader(interval: 3)
            evaluation = app.loader(interval: 30)
            mlflowRunID = app.loader(interval: 5)
        }
        let loadDetail: @Sendable () throws -> RunDetail = { try TrackingService(context: context).run(runId) }
        detail?.refresh(force: force, loadDetail)
        if let metric = chartedMetric {
            let loadHistory: @Sendable () throws -> [MetricPoint] = {
                try TrackingService(context: context).metricHistory(runId, key: metric)
            }
            history?.refresh(force: force, loadHistory)
        }
        evaluation?.refreshIfDue { try TrackingService(context: context).evaluation(runId) }
        if context.config.mlflowURI != nil {
            mlflowRunID?.refreshIfDue { try MirrorService(context: context).mlflowRunID(runId) }
        }
    }

    func handle(_ key: Key, action: Action?, app: ConsoleApp) -> Bool {
        switch action?.id {
        case "metric"?:
            metricIndex += 1
            history = app.loader(interval: 3)
            refresh(app, force: true)
        case "evaluation"?:
            showEvaluation.toggle()
        default: return false
        }
        return true
    }

    func render(_ canvas: inout Canvas, in area: Rect, app: ConsoleApp) {
        let glyphs = app.settings.glyphs
        guard let detail = detail?.value else {
            let text = self.detail?.error.map { "\($0)" } ?? "loading..."
            canvas.write(
                text, x: area.x + 1, y: area.y + 1, style: app.style(self.detail?.error == nil ? "ui.muted" : "ui.error"))
            return
        }
        let (left, right) = area.split(left: min(38, area.width / 2))
        let run = detail.run
        canvas.box(
            left, title: "\(run.name)  \(run.status.rawValue)", glyphs: glyphs, style: app.style("ui.border"),
            titleStyle: app.style(Format.role(run.status)))
        let inner = left.inset(1)
        for (index, line) in TrackingRows.facts(detail, mlflowRunID: mlflowRunID?.value ?? nil).prefix(inner.height).enumerated()
        {
            canvas.write(glyphs.fit(line.label, 15), x: inner.x + 1, y: inner.y + index, style: app.style("ui.muted"))
            canvas.write(
                glyphs.fit(line.value, inner.width - 18), x: inner.x + 17, y: inner.y + index, style: app.style("ui.text"))
        }
        if showEvaluation, let metrics = evaluation?.value ?? nil {
            renderEvaluation(metrics, &canvas, in: right, app: app)
        } else {
            let metric = chartedMetric ?? "no metrics"
            canvas.panel(right, title: "\(metric) by step", app: app)
            let values = (history?.value ?? []).map(\.value)
            Chart([.init(metric, values)]).render(&canvas, in: right.inset(1), app: app)
        }
    }

    private func renderEvaluation(_ metrics: ClassificationMetrics, _ canvas: inout Canvas, in area: Rect, app: ConsoleApp) {
        var table = Table(columns: [
            .init("class", width: 16), .init("n", width: 3), .init("prec", width: 5), .init("rec", width: 5),
            .init("F1", width: 5), .init("confusion"),
        ])
        table.update(TrackingRows.perClass(metrics))
        canvas.tableBox(&table, title: TrackingRows.evaluationTitle(metrics), error: nil, in: area, app: app, focused: false)
    }
}
