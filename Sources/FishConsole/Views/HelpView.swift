/// `?`: every key of the view underneath and the global ones, from the action registry.
final class HelpView: ConsoleView {
    let name = "help", title = "help"

    func render(_ canvas: inout Canvas, in area: Rect, app: ConsoleApp) {
        canvas.panel(area, title: "keys", app: app)
        let underneath = app.stack.dropLast().last
        var lines: [(String, String, Bool)] = []
        if let underneath {
            lines.append(("", "\(underneath.title):", true))
            lines += app.settings.actions.resolve(underneath.actions).map {
                ($0.key.name, $0.description + ($0.dangerous ? " (asks first)" : ""), false)
            }
        }
        lines.append(("", "everywhere:", true))
        lines += app.settings.actions.resolve(ConsoleApp.globalActions).map { ($0.key.name, $0.description, false) }
        lines.append(("", "views: " + app.viewNames.map { ":" + $0 }.joined(separator: " "), true))
        let inner = area.inset(1)
        for (index, line) in lines.prefix(inner.height).enumerated() {
            let y = inner.y + index
            if line.2 {
                canvas.write(line.1, x: inner.x + 1, y: y, style: app.style("ui.title"))
            } else {
                canvas.write(line.0, x: inner.x + 3, y: y, style: app.style("ui.footer.key"))
                canvas.write(line.1, x: inner.x + 15, y: y, style: app.style("ui.text"), clip: inner)
            }
        }
    }
}
