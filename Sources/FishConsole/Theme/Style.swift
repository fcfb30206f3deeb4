/// A terminal colour as themes name it.
public enum TerminalColor: Equatable, Hashable, Sendable {
    /// The terminal's own foreground or background.
    case standard
    /// One of the 256 indexed colours (0-15 are the ANSI colours).
    case indexed(UInt8)
    case rgb(UInt8, UInt8, UInt8)

    /// This colour as the nearest one `depth` can show (nil: none, use the default).
    public func reduced(to depth: ColorDepth) -> TerminalColor {
        switch (self, depth) {
        case (.standard, _), (_, .trueColor): return self
        case (_, .mono): return .standard
        case let (.rgb(r, g, b), .c256): return .indexed(Self.nearest256(r, g, b))
        case let (.rgb(r, g, b), .c16): return .indexed(Self.nearest16(r, g, b))
        case let (.indexed(index), .c16) where index >= 16:
            let (r, g, b) = Self.rgbOf256(index)
            return .indexed(Self.nearest16(r, g, b))
        case (.indexed, _): return self
        }
    }

    /// The RGB value of an xterm-256 colour index.
    static func rgbOf256(_ index: UInt8) -> (UInt8, UInt8, UInt8) {
        if index < 16 { return ansi[Int(index)] }
        if index >= 232 {
            let grey = UInt8(8 + 10 * (Int(index) - 232))
            return (grey, grey, grey)
        }
        let cube = Int(index) - 16
        let level = { (value: Int) -> UInt8 in value == 0 ? 0 : UInt8(55 + 40 * value) }
        return (level(cube / 36), level(cube / 6 % 6), level(cube % 6))
    }

    static let ansi: [(UInt8, UInt8, UInt8)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]

    private static func distance(_ a: (UInt8, UInt8, UInt8), _ b: (UInt8, UInt8, UInt8)) -> Int {
        let dr = Int(a.0) - Int(b.0)
        let dg = Int(a.1) - Int(b.1)
        let db = Int(a.2) - Int(b.2)
        return dr * dr + dg * dg + db * db
    }

    static func nearest256(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        UInt8((16...255).min { distance(rgbOf256(UInt8($0)), (r, g, b)) < distance(rgbOf256(UInt8($1)), (r, g, b)) } ?? 16)
    }

    static func nearest16(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        UInt8((0..<16).min { distance(ansi[$0], (r, g, b)) < distance(ansi[$1], (r, g, b)) } ?? 7)
    }
}

/// How many colours the terminal shows.
public enum ColorDepth: String, Sendable, CaseIterable {
    case trueColor = "truecolor"
    case c256 = "256"
    case c16 = "16"
    case mono
}

/// Text attributes.
public struct TextAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = TextAttributes(rawValue: 1)
    public static let dim = TextAttributes(rawValue: 2)
    public static let underline = TextAttributes(rawValue: 4)
    public static let reverse = TextAttributes(rawValue: 8)
}

/// How a cell looks.
public struct Style: Hashable, Sendable {
    public var foreground: TerminalColor
    public var background: TerminalColor
    public var attributes: TextAttributes

    public init(foreground: TerminalColor = .standard, background: TerminalColor = .standard, attributes: TextAttributes = []) {
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
    }

    public static let plain = Style()
}
