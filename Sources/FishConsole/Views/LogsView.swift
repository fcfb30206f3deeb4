import FishServices
import Foundation

/// `:logs`: the session's event log, newest at the bottom; below it, the hooks' latest delivery
/// attempts when there are any (see docs/hooks.md).
final class LogsView: ConsoleView {
    let name = "logs", title = "logs"
    private var deliveries: Loader<[HookDelivery]>?

    func refresh(_ app: ConsoleApp, force: Bool) {
        let context = app.context
        if deliveries == nil { deliveries = app.loader(interval: 3) }
        deliveries?.refresh(force: force) { try HookService(context: context).log(limit: 50) }
    }

    func render(_ canvas: inout Canvas, in area: Rect, app: ConsoleApp) {
        let attempts = deliveries?.value ?? []
        var (eventsArea, hooksArea): (Rect, Rect?) = (area, nil)
        if !attempts.isEmpty { (eventsArea, hooksArea) = area.split(top: area.height * 2 / 3) }
        canvas.panel(eventsArea, title: "events", app: app)
        let inner = eventsArea.inset(1)
        let entries = app.log.all.suffix(inner.height)
        let lines = entries.isEmpty ? [StyledLine("no events yet", role: "ui.muted")] : LogRows.events(entries, timed: true)
        canvas.lines(lines, in: inner, margin: 0, app: app)
        guard let hooksArea else { return }
        canvas.panel(hooksArea, title: "hook deliveries", app: app)
        let hooksInner = hooksArea.inset(1)
        canvas.lines(LogRows.deliveries(Array(attempts.suffix(hooksInner.height))), in: hooksInner, margin: 0, app: app)
    }
}
