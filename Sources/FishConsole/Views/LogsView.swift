/// `:logs`: the session's event log, newest at the bottom.
final class LogsView: ConsoleView {
    let name = "logs", title = "logs"

    func render(_ canvas: inout Canvas, in area: Rect, app: ConsoleApp) {
        canvas.box(
            area, title: "events", glyphs: app.settings.glyphs, style: app.style("ui.border"), titleStyle: app.style("ui.title"))
        let inner = area.inset(1)
        let entries = app.log.all.suffix(inner.height)
        if entries.isEmpty { canvas.write("no events yet", x: inner.x + 1, y: inner.y, style: app.style("ui.muted")) }
        for (index, entry) in entries.enumerated() {
            let line = "\(Format.time(entry.at))  \(entry.message)"
            canvas.write(
                app.settings.glyphs.fit(line, inner.width - 1), x: inner.x + 1, y: inner.y + index,
                style: app.style(entry.isError ? "ui.error" : "ui.text"))
        }
    }
}
