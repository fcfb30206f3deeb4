/// A line of text and the theme role it is drawn in: what the views' row builders return for
/// boxes that are not tables.
public struct StyledLine: Equatable, Sendable {
    public let text: String
    public let role: String

    public init(_ text: String, role: String = "ui.text") {
        (self.text, self.role) = (text, role)
    }
}

extension Canvas {
    /// Draws `lines` one per row from the top of `area`, `indent` cells in, as many as fit; each is
    /// cut to end `margin` cells before the area's right edge.
    public mutating func lines(_ lines: [StyledLine], in area: Rect, indent: Int = 1, margin: Int = 1, app: ConsoleApp) {
        for (index, line) in lines.prefix(max(area.height, 0)).enumerated() {
            write(
                app.settings.glyphs.fit(line.text, area.width - indent - margin), x: area.x + indent, y: area.y + index,
                style: app.style(line.role), clip: area)
        }
    }

    /// A box titled `title` in the theme's border role (its focus role for the view's main box).
    public mutating func panel(_ area: Rect, title: String, focused: Bool = false, app: ConsoleApp) {
        box(
            area, title: title, glyphs: app.settings.glyphs, style: app.style(focused ? "ui.border.focus" : "ui.border"),
            titleStyle: app.style("ui.title"))
    }

    /// A box titled `title` around `table`, or around `error` instead when the view's last load failed.
    public mutating func tableBox(
        _ table: inout Table, title: String, error: (any Error)?, in area: Rect, app: ConsoleApp, focused: Bool = true
    ) {
        panel(area, title: title, focused: focused, app: app)
        if let error {
            lines([StyledLine("\(error)", role: "ui.error")], in: area.inset(1), app: app)
            return
        }
        table.render(&self, in: area.inset(1), app: app, focused: focused)
    }
}
