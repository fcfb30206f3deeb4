/// `:logs`: the session's event log, newest at the bottom.
final class LogsView: ConsoleView {
    let name = "logs", title = "logs"

    func render(_ canvas: inout Canvas, in area: Rect, app: ConsoleApp) {
        canvas.panel(area, title: "events", app: app)
        let inner = area.inset(1)
        let entries = app.log.all.suffix(inner.height)
        let lines = entries.isEmpty ? [StyledLine("no events yet", role: "ui.muted")] : LogRows.events(entries, timed: true)
        canvas.lines(lines, in: inner, margin: 0, app: app)
    }
}
