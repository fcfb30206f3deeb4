/// A rectangle of the screen, in cells.
public struct Rect: Equatable, Sendable {
    public var x: Int, y: Int, width: Int, height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        (self.x, self.y, self.width, self.height) = (x, y, max(width, 0), max(height, 0))
    }

    /// This rectangle without `amount` cells on every side.
    public func inset(_ amount: Int) -> Rect {
        Rect(x: x + amount, y: y + amount, width: width - 2 * amount, height: height - 2 * amount)
    }

    /// The top `rows` rows, and the rest.
    public func split(top rows: Int) -> (top: Rect, rest: Rect) {
        let taken = min(max(rows, 0), height)
        return (Rect(x: x, y: y, width: width, height: taken), Rect(x: x, y: y + taken, width: width, height: height - taken))
    }

    /// The left `columns` columns, and the rest.
    public func split(left columns: Int) -> (left: Rect, rest: Rect) {
        let taken = min(max(columns, 0), width)
        return (Rect(x: x, y: y, width: taken, height: height), Rect(x: x + taken, y: y, width: width - taken, height: height))
    }
}

/// One character cell.
public struct Cell: Equatable, Sendable {
    public var character: Character
    public var style: Style

    public static let blank = Cell(character: " ", style: .plain)
}

/// The in-memory cell grid views draw into; the terminal backend sends only what changed
/// between two frames.
public struct Canvas: Equatable, Sendable {
    public let width: Int
    public let height: Int
    private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(width, 0)
        self.height = max(height, 0)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { if x >= 0, y >= 0, x < width, y < height { cells[y * width + x] = newValue } }
    }

    /// Writes `text` from (`x`, `y`), clipped to `clip` (default: the whole canvas); returns the
    /// column after the last character written.
    @discardableResult
    public mutating func write(_ text: String, x: Int, y: Int, style: Style = .plain, clip: Rect? = nil) -> Int {
        let area = clip ?? bounds
        guard y >= area.y, y < area.y + area.height, y >= 0, y < height else { return x }
        var column = x
        for character in text {
            if column >= area.x + area.width { break }
            if column >= area.x && column >= 0 && column < width {
                cells[y * width + column] = Cell(character: character.isNewline ? " " : character, style: style)
            }
            column += 1
        }
        return column
    }

    /// Fills `rect` with `character`.
    public mutating func fill(_ rect: Rect, character: Character = " ", style: Style = .plain) {
        for y in max(rect.y, 0)..<min(rect.y + rect.height, height) {
            for x in max(rect.x, 0)..<min(rect.x + rect.width, width) {
                cells[y * width + x] = Cell(character: character, style: style)
            }
        }
    }

    /// Draws a frame around `rect` with an optional title.
    public mutating func box(_ rect: Rect, title: String = "", glyphs: Glyphs, style: Style = .plain, titleStyle: Style? = nil) {
        guard rect.width >= 2, rect.height >= 2 else { return }
        let right = rect.x + rect.width - 1
        let bottom = rect.y + rect.height - 1
        for x in (rect.x + 1)..<right {
            self[x, rect.y] = Cell(character: glyphs.horizontal, style: style)
            self[x, bottom] = Cell(character: glyphs.horizontal, style: style)
        }
        for y in (rect.y + 1)..<bottom {
            self[rect.x, y] = Cell(character: glyphs.vertical, style: style)
            self[right, y] = Cell(character: glyphs.vertical, style: style)
        }
        self[rect.x, rect.y] = Cell(character: glyphs.topLeft, style: style)
        self[right, rect.y] = Cell(character: glyphs.topRight, style: style)
        self[rect.x, bottom] = Cell(character: glyphs.bottomLeft, style: style)
        self[right, bottom] = Cell(character: glyphs.bottomRight, style: style)
        if !title.isEmpty {
            write(
                " \(title) ", x: rect.x + 2, y: rect.y, style: titleStyle ?? style,
                clip: Rect(x: rect.x, y: rect.y, width: rect.width - 2, height: 1))
        }
    }

    /// The characters of every row (trailing spaces kept), for snapshot tests and text screenshots.
    public var text: String {
        (0..<height).map { y in String((0..<width).map { cells[y * width + $0].character }) }.joined(separator: "\n")
    }

    /// A changed stretch of one row: what the terminal must redraw.
    public struct Run: Equatable, Sendable {
        public let x: Int, y: Int
        public let characters: [Character]
        public let style: Style
    }

    /// The runs of same-style cells that differ from `previous` (everything when the sizes differ).
    public func changes(since previous: Canvas?) -> [Run] {
        let sameSize = previous.map { $0.width == width && $0.height == height } ?? false
        var runs: [Run] = []
        for y in 0..<height {
            var x = 0
            while x < width {
                let index = y * width + x
                if sameSize, let previous, previous.cells[index] == cells[index] {
                    x += 1
                    continue
                }
                let style = cells[index].style
                var characters: [Character] = []
                while x < width, cells[y * width + x].style == style,
                    !(sameSize && previous?.cells[y * width + x] == cells[y * width + x])
                {
                    characters.append(cells[y * width + x].character)
                    x += 1
                }
                runs.append(Run(x: x - characters.count, y: y, characters: characters, style: style))
            }
        }
        return runs
    }
}
