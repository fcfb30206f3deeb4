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
        canvas.box(
            summary, title: ServeFormat.address(url), glyphs: glyphs, style: app.style("ui.border.focus"),
            titleStyle: app.style("ui.title"))
        let lines = summaryLines(server, error: loader?.error)
        for (index, line) in lines.prefix(summary.height - 2).enumerated() {
            canvas.write(
                glyphs.fit(line.text, summary.width - 4), x: summary.x + 2, y: summary.y + 1 + index, style: app.style(line.role))
        }
        guard let stats = server?.stats else { return }
        let (charts, bottom) = rest.split(top: rest.height / 2)
        let (rateArea, latencyArea) = charts.split(left: charts.width / 2)
        let minutes = stats.series.stepSeconds * stats.series.requestsPerSecond.count / 60
        canvas.box(
            rateArea, title: "requests/s, \(minutes) min", glyphs: glyphs, style: app.style("ui.border"),
            titleStyle: app.style("ui.title"))
        Chart([.init("req/s", stats.series.requestsPerSecond)]).render(&canvas, in: rateArea.inset(1), app: app)
        canvas.box(
            latencyArea, title: "p95 ms, \(minutes) min", glyphs: glyphs, style: app.style("ui.border"),
            titleStyle: app.style("ui.title"))
        Chart([.init("p95 ms", stats.series.p95Ms.map { $0 ?? .nan })]).render(&canvas, in: latencyArea.inset(1), app: app)

        let (mixArea, others) = bottom.split(left: bottom.width / 3)
        let (confidenceArea, lowArea) = others.split(left: others.width / 2)
        let recent = stats.recent
        // The test split's share beside each class, when the version carries a drift reference.
        let test = Dictionary(
            (stats.drift?.testClassMix ?? []).map { ($0.label, $0.share) }, uniquingKeysWith: { first, _ in first })
        canvas.box(
            mixArea, title: test.isEmpty ? "class mix, last \(recent.answers)" : "class mix, last \(recent.answers) | test",
            glyphs: glyphs, style: app.style("ui.border"), titleStyle: app.style("ui.title"))
        let inner = mixArea.inset(1)
        let labelWidth = max(inner.width - (test.isEmpty ? 14 : 19), 4)
        for (index, share) in recent.classMix.prefix(inner.height).enumerated() {
            let label = glyphs.fit(share.label, labelWidth).padding(toLength: labelWidth, withPad: " ", startingAt: 0)
            let beside = test.isEmpty ? "" : test[share.label].map { String(format: " %3.0f%%", $0 * 100) } ?? "    -"
            canvas.write(
                "\(label) \(glyphs.bar(share.share, width: 6)) \(String(format: "%3.0f%%", share.share * 100))\(beside)",
                x: inner.x + 1, y: inner.y + index, style: app.style("ui.text"), clip: inner)
        }
        let mean = recent.meanConfidence.map { String(format: ", mean %.2f", $0) } ?? ""
        canvas.box(
            confidenceArea, title: "confidence\(mean)", glyphs: glyphs, style: app.style("ui.border"),
            titleStyle: app.style("ui.title"))
        let bins = confidenceArea.inset(1)
        // Tenths of confidence, or fifths when the box is short; highest at the top.
        let width = bins.height >= 10 ? 1 : 2
        let counts = stride(from: 0, to: 10, by: width).map { recent.confidenceHistogram[$0..<min($0 + width, 10)].reduce(0, +) }
        let most = Double(counts.max() ?? 0)
        for (row, bin) in counts.indices.reversed().enumerated() where row < bins.height {
            let label = String(format: "%.1f", Double(bin * width) / 10)
            canvas.write(
                "\(label) \(glyphs.bar(most > 0 ? Double(counts[bin]) / most : 0, width: max(bins.width - 12, 4))) \(counts[bin])",
                x: bins.x + 1, y: bins.y + row, style: app.style(bin * width < 5 ? "ui.stale" : "ui.text"), clip: bins)
        }
        canvas.box(
            lowArea, title: "below \(String(format: "%.1f", recent.lowConfidenceThreshold)) confidence",
            glyphs: glyphs, style: app.style("ui.border"), titleStyle: app.style("ui.title"))
        let low = lowArea.inset(1)
        if recent.lowConfidence.isEmpty {
            canvas.write("none", x: low.x + 1, y: low.y, style: app.style("ui.muted"))
        }
        for (index, answer) in recent.lowConfidence.prefix(low.height).enumerated() {
            let line =
                "\(Format.time(answer.at)) \(String(format: "%.2f", answer.confidence)) \(answer.label) \(answer.sha256.prefix(8))"
            canvas.write(glyphs.fit(line, low.width - 2), x: low.x + 1, y: low.y + index, style: app.style("ui.text"))
        }
    }

    /// The summary box: the record's facts and state, then the two windows.
    private func summaryLines(_ server: ServingService.Server?, error: (any Error)?) -> [(text: String, role: String)] {
        if let error { return [("\(error)", "ui.error")] }
        guard let server else { return [(loader?.value == nil ? "loading" : "no such server: it was forgotten", "ui.muted")] }
        var lines: [(String, String)] = []
        let stats = server.stats
        let model =
            stats.map { "\($0.model)@\($0.alias) v\($0.version.map(String.init) ?? "-")" }
            ?? server.record.map { "\($0.model)@\($0.alias) v\($0.version.map(String.init) ?? "-")" } ?? "-"
        var facts = "\(model)  \(server.state.rawValue)"
        if let record = server.record {
            facts += "  heartbeat \(Format.time(record.heartbeatAt))  pid \(record.pid) on \(record.host)"
        }
        lines.append((facts, ServeFormat.role(server)))
        if let problem = server.problem { lines.append((problem, "ui.error")) }
        if server.state == .gone, let record = server.record {
            lines.append(
                (
                    "no heartbeat since \(Format.date(record.heartbeatAt)), or its process has exited; x in :serve forgets it",
                    "ui.muted"
                ))
        }
        guard let stats else { return lines }
        for window in [stats.lastMinute, stats.lastQuarterHour] {
            let span = window.seconds >= 120 ? "\(window.seconds / 60) min" : "\(window.seconds) s"
            var line = "\(span): \(window.requests) requests, \(ServeFormat.rate(window.requestsPerSecond))/s"
            if let latency = window.latencyMs {
                line += String(format: ", p50/p95/p99 %.1f/%.1f/%.1f ms", latency.p50, latency.p95, latency.p99)
            }
            let failures = (window.errors + window.rejections).map { "\($0.kind) \($0.count)" }
            line += failures.isEmpty ? ", no failures" : ", " + failures.joined(separator: " ")
            lines.append((line, window.failed > 0 ? "ui.stale" : "ui.text"))
        }
        if let drift = stats.drift {
            if let check = drift.check {
                let numbers = String(
                    format: "MMD p %.3f, KS p %.3g, class mix p %.3g, confidence %.2f (test %.2f)", check.mmdPValue,
                    check.ksPValue,
                    check.classMixPValue, check.meanConfidence, check.referenceConfidence)
                lines.append(
                    (
                        "drift: \(check.verdict.rawValue) over \(check.images) answers (\(numbers))\(check.reasons.isEmpty ? "" : "; " + check.reasons.joined(separator: "; "))",
                        check.verdict == .drift ? "status.failed" : check.verdict == .warning ? "ui.stale" : "ui.text"
                    ))
            } else {
                lines.append(("drift: first check after \(drift.waitingFor) more uncached answers", "ui.muted"))
            }
        }
        let batches =
            stats.batches.meanSize.map { String(format: "batches %.1f on average over %d passes", $0, stats.batches.count) }
            ?? "no batches yet"
        let cache =
            stats.cache.hitRatio.map { String(format: "cache %.0f%% hits (%d entries)", $0 * 100, stats.cache.entries) }
            ?? "cache unused"
        lines.append(("queue \(stats.queueDepth)  \(batches)  \(cache)  started \(Format.date(stats.startedAt))", "ui.text"))
        return lines
    }
}
