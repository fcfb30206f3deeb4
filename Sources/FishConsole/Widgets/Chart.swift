import Foundation

/// Line charts of metric series: braille dots (2x4 per cell) by default, one mark per cell in
/// ASCII mode. Several series overlay in the chart.series colours.
public struct Chart {
    public struct Series {
        public let label: String
        public let values: [Double]

        public init(_ label: String, _ values: [Double]) {
            self.label = label
            self.values = values
        }
    }

    public let series: [Series]

    public init(_ series: [Series]) {
        self.series = series
    }

    /// Draws the axes' range labels, the lines and a legend into `area`.
    public func render(_ canvas: inout Canvas, in area: Rect, app: ConsoleApp) {
        let all = series.flatMap(\.values).filter(\.isFinite)
        guard area.width > 12, area.height > 2, let low = all.min(), let high = all.max() else {
            canvas.write("(no data)", x: area.x, y: area.y, style: app.style("ui.muted"))
            return
        }
        let labels = [String(format: "%.3g", high), String(format: "%.3g", low)]
        let labelWidth = labels.map(\.count).max() ?? 0
        canvas.write(labels[0], x: area.x, y: area.y, style: app.style("chart.axis"))
        canvas.write(labels[1], x: area.x, y: area.y + area.height - 2, style: app.style("chart.axis"))
        let plot = Rect(x: area.x + labelWidth + 1, y: area.y, width: area.width - labelWidth - 1, height: area.height - 1)
        let braille = app.settings.glyphs.braille
        let (dotsX, dotsY) = braille ? (2, 4) : (1, 1)
        var dots = [[Int]](repeating: [Int](repeating: -1, count: plot.width * dotsX), count: plot.height * dotsY)
        let span = high - low
        for (seriesIndex, line) in series.enumerated() where !line.values.isEmpty {
            let columns = plot.width * dotsX
            let rows = plot.height * dotsY
            var previous: (Int, Int)?
            for (index, value) in line.values.enumerated() where value.isFinite {
                let x = line.values.count == 1 ? 0 : index * (columns - 1) / (line.values.count - 1)
                let y = span > 0 ? Int(((high - value) / span * Double(rows - 1)).rounded()) : rows / 2
                if let (px, py) = previous {
                    let steps = max(abs(x - px), abs(y - py), 1)
                    for step in 0...steps {
                        dots[py + (y - py) * step / steps][px + (x - px) * step / steps] = seriesIndex
                    }
                } else {
                    dots[y][x] = seriesIndex
                }
                previous = (x, y)
            }
        }
        for row in 0..<plot.height {
            for column in 0..<plot.width {
                var bits = 0
                var owner = -1
                for dy in 0..<dotsY {
                    for dx in 0..<dotsX where dots[row * dotsY + dy][column * dotsX + dx] >= 0 {
                        owner = dots[row * dotsY + dy][column * dotsX + dx]
                        bits |= Self.brailleBit(dx, dy)
                    }
                }
                guard owner >= 0 else { continue }
                let character: Character = braille ? Character(Unicode.Scalar(0x2800 + bits) ?? " ") : (owner == 0 ? "*" : "+")
                canvas[plot.x + column, plot.y + row] = Cell(
                    character: character, style: app.style("chart.series\(owner % 2 + 1)"))
            }
        }
        var x = plot.x
        for (index, line) in series.enumerated() {
            let marker = braille ? "⣿" : (index == 0 ? "*" : "+")
            x = canvas.write(
                "\(marker) \(line.label)  ", x: x, y: area.y + area.height - 1, style: app.style("chart.series\(index % 2 + 1)"))
        }
    }

    private static func brailleBit(_ x: Int, _ y: Int) -> Int {
        y == 3 ? (x == 0 ? 0x40 : 0x80) : (1 << (y + 3 * x))
    }
}
