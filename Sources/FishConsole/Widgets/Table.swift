/// A scrolling table with a selected row: the views' main widget.
public struct Table {
    public struct Column {
        public let title: String
        /// Fixed width; nil shares the space left.
        public let width: Int?

        public init(_ title: String, width: Int? = nil) {
            self.title = title
            self.width = width
        }
    }

    public struct Row: Equatable {
        public let cells: [String]
        /// The theme role of the row (e.g. a status colour); "table.row" by default.
        public let role: String
        public let marked: Bool

        public init(_ cells: [String], role: String = "table.row", marked: Bool = false) {
            (self.cells, self.role, self.marked) = (cells, role, marked)
        }
    }

    public var columns: [Column]
    public var rows: [Row] = []
    public private(set) var selected = 0
    private var offset = 0

    public init(columns: [Column]) {
        self.columns = columns
    }

    /// Replaces the rows, keeping the selection in range.
    public mutating func update(_ rows: [Row]) {
        self.rows = rows
        selected = min(selected, max(rows.count - 1, 0))
    }

    /// Moves the selection for arrow, page and home/end keys (and j/k); returns false for other keys.
    public mutating func move(_ key: Key, pageSize: Int = 10) -> Bool {
        switch key {
        case .up, .character("k"): selected = max(selected - 1, 0)
        case .down, .character("j"): selected = min(selected + 1, max(rows.count - 1, 0))
        case .pageUp: selected = max(selected - pageSize, 0)
        case .pageDown: selected = min(selected + pageSize, max(rows.count - 1, 0))
        case .home, .character("g"): selected = 0
        case .end, .character("G"): selected = max(rows.count - 1, 0)
        default: return false
        }
        return true
    }

    /// Draws the header and as many rows as fit, scrolled to keep the selection visible.
    public mutating func render(_ canvas: inout Canvas, in area: Rect, app: ConsoleApp, focused: Bool = true) {
        guard area.height >= 2 else { return }
        let fixed = columns.compactMap(\.width).reduce(0, +) + columns.count
        let flexible = columns.filter { $0.width == nil }.count
        let share = flexible > 0 ? max((area.width - fixed) / flexible, 4) : 0
        let widths = columns.map { $0.width ?? share }
        let glyphs = app.settings.glyphs
        func line(_ cells: [String], y: Int, style: Style) {
            var x = area.x + 1
            for (index, width) in widths.enumerated() where index < cells.count {
                canvas.write(
                    glyphs.fit(cells[index], width), x: x, y: y, style: style,
                    clip: Rect(x: area.x, y: area.y, width: area.width, height: area.height))
                x += width + 1
            }
        }
        line(columns.map(\.title), y: area.y, style: app.style("table.header"))
        let visible = area.height - 1
        if selected < offset { offset = selected }
        if selected >= offset + visible { offset = selected - visible + 1 }
        offset = max(0, min(offset, max(rows.count - visible, 0)))
        if rows.isEmpty {
            canvas.write("(nothing to show)", x: area.x + 1, y: area.y + 1, style: app.style("ui.muted"))
        }
        for (position, row) in rows.dropFirst(offset).prefix(visible).enumerated() {
            let y = area.y + 1 + position
            let index = offset + position
            var style = app.style(row.marked ? "table.row.marked" : row.role)
            if index == selected && focused {
                style = app.style("table.row.selected")
                canvas.fill(Rect(x: area.x, y: y, width: area.width, height: 1), style: style)
            }
            if row.marked { canvas.write(String(glyphs.mark), x: area.x, y: y, style: style) }
            line(row.cells, y: y, style: style)
        }
    }
}
