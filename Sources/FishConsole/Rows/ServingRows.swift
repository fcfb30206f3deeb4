package import FishServices
import Foundation

/// What `:serve` and one server's view show, from the servers and statistics loaded.
package enum ServingRows {
    /// The list's title: how many servers are alive.
    package static func title(_ servers: [ServingService.Server]) -> String {
        let alive = servers.filter { $0.state == .alive }.count
        return servers.isEmpty ? "servers" : "servers (\(alive) of \(servers.count) alive)  last minute"
    }

    /// One row per server over its last minute; a server that does not answer is `down`, one that
    /// drifts stands out.
    package static func servers(_ servers: [ServingService.Server], glyphs: Glyphs) -> [Table.Row] {
        servers.map { server in
            let stats = server.stats
            let minute = server.stats?.lastMinute
            let version = (stats?.version ?? server.record?.version).map { "v\($0)" } ?? "-"
            let model = (stats?.model ?? server.record?.model).map { "\(ServeFormat.shortModel($0)) \(version)" } ?? version
            let rate =
                stats.map {
                    glyphs.spark($0.series.requestsPerSecond, width: 6) + " " + ServeFormat.rate($0.lastMinute.requestsPerSecond)
                } ?? "-"
            // A server that does not answer is down, whether it is recorded or named by URL.
            let state =
                server.state == .unreachable || (server.stats == nil && server.problem != nil && server.state == .alive)
                ? "down" : server.state.rawValue
            return Table.Row(
                [
                    ServeFormat.address(server.url), state, model, rate,
                    minute?.latencyMs.map { $0.p95 >= 100 ? String(format: "%.0f", $0.p95) : String(format: "%.1f", $0.p95) }
                        ?? "-", minute.map { "\($0.failed)" } ?? "-",
                    stats.map { "\($0.queueDepth)" } ?? "-",
                    stats?.cache.hitRatio.map { String(format: "%.0f%%", $0 * 100) } ?? "-",
                    ServeFormat.drift(stats?.drift),
                ],
                role: stats?.drift?.check?.verdict == .drift ? "status.failed" : ServeFormat.role(server))
        }
    }

    /// One server's summary: its record's facts and state, then the two windows, drift, batches and
    /// cache. `loaded` says whether a load has answered (a nil server then means it was forgotten).
    package static func summary(_ server: ServingService.Server?, loaded: Bool, error: (any Error)?) -> [StyledLine] {
        if let error { return [StyledLine("\(error)", role: "ui.error")] }
        guard let server else { return [StyledLine(loaded ? "no such server: it was forgotten" : "loading", role: "ui.muted")] }
        var lines: [StyledLine] = []
        let stats = server.stats
        let model =
            stats.map { "\($0.model)@\($0.alias) v\($0.version.map(String.init) ?? "-")" }
            ?? server.record.map { "\($0.model)@\($0.alias) v\($0.version.map(String.init) ?? "-")" } ?? "-"
        var facts = "\(model)  \(server.state.rawValue)"
        if let record = server.record {
            facts += "  heartbeat \(Format.time(record.heartbeatAt))  pid \(record.pid) on \(record.host)"
        }
        lines.append(StyledLine(facts, role: ServeFormat.role(server)))
        if let problem = server.problem { lines.append(StyledLine(problem, role: "ui.error")) }
        if server.state == .gone, let record = server.record {
            let text = "no heartbeat since \(Format.date(record.heartbeatAt)), or its process has exited; x in :serve forgets it"
            lines.append(StyledLine(text, role: "ui.muted"))
        }
        guard let stats else { return lines }
        lines += [stats.lastMinute, stats.lastQuarterHour].map(window)
        if let drift = stats.drift { lines.append(self.drift(drift)) }
        let batches =
            stats.batches.meanSize.map { String(format: "batches %.1f on average over %d passes", $0, stats.batches.count) }
            ?? "no batches yet"
        let cache =
            stats.cache.hitRatio.map { String(format: "cache %.0f%% hits (%d entries)", $0 * 100, stats.cache.entries) }
            ?? "cache unused"
        lines.append(StyledLine("queue \(stats.queueDepth)  \(batches)  \(cache)  started \(Format.date(stats.startedAt))"))
        return lines
    }

    /// Requests, rate, latency percentiles and failures over one window.
    package static func window(_ window: ServerStats.Window) -> StyledLine {
        let span = window.seconds >= 120 ? "\(window.seconds / 60) min" : "\(window.seconds) s"
        var line = "\(span): \(window.requests) requests, \(ServeFormat.rate(window.requestsPerSecond))/s"
        if let latency = window.latencyMs {
            line += String(format: ", p50/p95/p99 %.1f/%.1f/%.1f ms", latency.p50, latency.p95, latency.p99)
        }
        let failures = (window.errors + window.rejections).map { "\($0.kind) \($0.count)" }
        line += failures.isEmpty ? ", no failures" : ", " + failures.joined(separator: " ")
        return StyledLine(line, role: window.failed > 0 ? "ui.stale" : "ui.text")
    }

    /// The drift verdict with its test statistics, or how long until the first check.
    package static func drift(_ drift: ServerStats.Drift) -> StyledLine {
        guard let check = drift.check else {
            return StyledLine("drift: first check after \(drift.waitingFor) more uncached answers", role: "ui.muted")
        }
        let numbers = String(
            format: "MMD p %.3f, KS p %.3g, class mix p %.3g, confidence %.2f (test %.2f)", check.mmdPValue, check.ksPValue,
            check.classMixPValue, check.meanConfidence, check.referenceConfidence)
        let reasons = check.reasons.isEmpty ? "" : "; " + check.reasons.joined(separator: "; ")
        return StyledLine(
            "drift: \(check.verdict.rawValue) over \(check.images) answers (\(numbers))\(reasons)",
            role: check.verdict == .drift ? "status.failed" : check.verdict == .warning ? "ui.stale" : "ui.text")
    }

    /// The class mix of the recent answers in lines `width` cells wide, with the test split's share
    /// beside each class when the version carries a drift reference.
    package static func classMix(_ stats: ServerStats, width: Int, glyphs: Glyphs) -> [StyledLine] {
        let test = Dictionary(
            (stats.drift?.testClassMix ?? []).map { ($0.label, $0.share) }, uniquingKeysWith: { first, _ in first })
        let labelWidth = max(width - (test.isEmpty ? 14 : 19), 4)
        return stats.recent.classMix.map { share in
            let label = glyphs.fit(share.label, labelWidth).padding(toLength: labelWidth, withPad: " ", startingAt: 0)
            let beside = test.isEmpty ? "" : test[share.label].map { String(format: " %3.0f%%", $0 * 100) } ?? "    -"
            return StyledLine(
                "\(label) \(glyphs.bar(share.share, width: 6)) \(String(format: "%3.0f%%", share.share * 100))\(beside)")
        }
    }

    /// The class mix box's title.
    package static func classMixTitle(_ stats: ServerStats) -> String {
        let answers = stats.recent.answers
        return (stats.drift?.testClassMix ?? []).isEmpty ? "class mix, last \(answers)" : "class mix, last \(answers) | test"
    }

    /// A histogram of the recent answers' confidence, highest bin first: tenths when `height` has
    /// room for ten lines, else fifths; bars fill `width` cells less the labels; low bins stand out.
    package static func confidence(_ recent: ServerStats.Recent, width: Int, height: Int, glyphs: Glyphs) -> [StyledLine] {
        let step = height >= 10 ? 1 : 2
        let counts = stride(from: 0, to: 10, by: step).map { recent.confidenceHistogram[$0..<min($0 + step, 10)].reduce(0, +) }
        let most = Double(counts.max() ?? 0)
        return counts.indices.reversed().map { bin in
            let label = String(format: "%.1f", Double(bin * step) / 10)
            let bar = glyphs.bar(most > 0 ? Double(counts[bin]) / most : 0, width: max(width - 12, 4))
            return StyledLine("\(label) \(bar) \(counts[bin])", role: bin * step < 5 ? "ui.stale" : "ui.text")
        }
    }

    /// The latest answers below the low-confidence threshold: time, confidence, class, image hash.
    package static func lowConfidence(_ recent: ServerStats.Recent) -> [StyledLine] {
        guard !recent.lowConfidence.isEmpty else { return [StyledLine("none", role: "ui.muted")] }
        return recent.lowConfidence.map { answer in
            StyledLine(
                "\(Format.time(answer.at)) \(String(format: "%.2f", answer.confidence)) \(answer.label) \(answer.sha256.prefix(8))"
            )
        }
    }
}
