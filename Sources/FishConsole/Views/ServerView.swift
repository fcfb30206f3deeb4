import FishServices
import Foundation

/// One server (Enter in `:serve`): its numbers over the last minute and 15 minutes, request-rate
/// and p95 charts, the class mix and confidence of its recent answers, and the latest
/// low-confidence answers.
final class ServerView: ConsoleView {
    let name = "server"
    let url: String
    var title: String { ServeFormat.address(url) }
    private var loader: Loader<ServingService.Server?>?

    init(url: String) {
        self.url = url
    }

    var isStale: Bool { loader?.isStale() ?? false }

    func refresh(_ app: ConsoleApp, force: Bool) {
        if loader == nil { loader = app.loader(interval: 2) }
        let (context, url) = (app.context, url)
        let work: @Sendable () throws -> ServingService.Server? = {
            try ServingService(context: context).servers(only: url).first
        }
        loader?.refresh(force: force, work)
    }

    func render(_ canvas: inout Canvas, in area: Rect, app: ConsoleApp) {
        let glyphs = app.settings.glyphs
        let server = loader?.value ?? nil
        let (summary, rest) = area.split(top: 8)
        canvas.panel(summary, title: ServeFormat.address(url), focused: true, app: app)
        canvas.lines(
            ServingRows.summary(server, loaded: loader?.value != nil, error: loader?.error), in: summary.inset(1), app: app)
        guard let stats = server?.stats else { return }
        let (charts, bottom) = rest.split(top: rest.height / 2)
        let (rateArea, latencyArea) = charts.split(left: charts.width / 2)
        let minutes = stats.series.stepSeconds * stats.series.requestsPerSecond.count / 60
        canvas.panel(rateArea, title: "requests/s, \(minutes) min", app: app)
        Chart([.init("req/s", stats.series.requestsPerSecond)]).render(&canvas, in: rateArea.inset(1), app: app)
        canvas.panel(latencyArea, title: "p95 ms, \(minutes) min", app: app)
        Chart([.init("p95 ms", stats.series.p95Ms.map { $0 ?? .nan })]).render(&canvas, in: latencyArea.inset(1), app: app)

        let (mixArea, others) = bottom.split(left: bottom.width / 3)
        let (confidenceArea, lowArea) = others.split(left: others.width / 2)
        let recent = stats.recent
        canvas.panel(mixArea, title: ServingRows.classMixTitle(stats), app: app)
        let mix = mixArea.inset(1)
        canvas.lines(ServingRows.classMix(stats, width: mix.width, glyphs: glyphs), in: mix, margin: 0, app: app)
        let mean = recent.meanConfidence.map { String(format: ", mean %.2f", $0) } ?? ""
        canvas.panel(confidenceArea, title: "confidence\(mean)", app: app)
        let bins = confidenceArea.inset(1)
        canvas.lines(
            ServingRows.confidence(recent, width: bins.width, height: bins.height, glyphs: glyphs), in: bins, margin: 0, app: app)
        canvas.panel(lowArea, title: "below \(String(format: "%.1f", recent.lowConfidenceThreshold)) confidence", app: app)
        canvas.lines(ServingRows.lowConfidence(recent), in: lowArea.inset(1), app: app)
    }
}
