public import Foundation

/// Semantic styles for the console, loaded from `themes/NAME.theme`: flat `key = value` lines.
/// A value is `FG [on BG] [bold|dim|underline|reverse]...`; a colour is `default`, a palette name,
/// an ANSI name, 0-255 or `#rrggbb`; `role@16` is an optional hand-tuned value for 16 colours and
/// mono terminals. Unknown keys warn; missing keys fall back to the compiled defaults.
public struct Theme: Sendable {
    public private(set) var name: String
    /// Problems found while loading (unknown keys, bad values): shown in `:logs`.
    public private(set) var warnings: [String] = []
    private var palette: [String: TerminalColor] = [:]
    private var values: [String: String] = [:]

    /// Every role a view may ask for, with its compiled default.
    public static let defaults: KeyValuePairs<String, String> = [
        "ui.text": "default",
        "ui.muted": "8",
        "ui.title": "accent bold",
        "ui.header": "default on 236",
        "ui.header@16": "reverse",
        "ui.header.title": "accent bold on 236",
        "ui.header.title@16": "bold reverse",
        "ui.footer": "8",
        "ui.footer.key": "accent bold",
        "ui.border": "8",
        "ui.border.focus": "accent",
        "ui.command": "warn bold",
        "ui.stale": "warn",
        "ui.error": "bad bold",
        "ui.good": "good",
        "table.header": "accent bold underline",
        "table.row": "default",
        "table.row.selected": "bg on accent",
        "table.row.selected@16": "reverse",
        "table.row.marked": "warn bold",
        "status.running": "accent bold",
        "status.finished": "good",
        "status.failed": "bad bold",
        "status.killed": "warn",
        "registry.alias": "bg on warn",
        "registry.alias@16": "reverse",
        "metric.best": "good bold",
        "chart.series1": "accent",
        "chart.series2": "warn",
        "chart.axis": "8",
        "bar.fill": "good",
        "dialog.border": "warn bold",
        "dialog.danger": "bad bold",
        "dialog.input": "default on 237",
        "dialog.input@16": "underline",
    ]

    /// Palette names the defaults use.
    static let defaultPalette: KeyValuePairs<String, String> = [
        "accent": "#83a598", "good": "#8ec07c", "warn": "#fabd2f", "bad": "#fb4934", "bg": "#1d2021",
    ]

    public static let roles: Set<String> = Set(defaults.map(\.key).map { $0.split(separator: "@").first.map(String.init) ?? $0 })

    /// The compiled defaults alone.
    public init() {
        name = "default"
        for (key, value) in Self.defaultPalette { palette[key] = Self.color(value, palette: [:]) }
        for (key, value) in Self.defaults { values[key] = value }
    }

    /// The defaults overridden by the theme text `text`.
    public init(parsing text: String, name fallbackName: String) {
        self.init()
        var themeName = fallbackName
        var overrides: [String: String] = [:]
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else {
                warnings.append("line \(number + 1): expected key = value")
                continue
            }
            let key = parts[0]
            let value = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            switch key {
            case "format":
                if value != "1" { warnings.append("line \(number + 1): format \(value) is not supported (1 is)") }
            case "name": themeName = value
            case _ where key.hasPrefix("palette."):
                let paletteName = String(key.dropFirst("palette.".count))
                if let color = Self.color(value, palette: palette) {
                    palette[paletteName] = color
                } else {
                    warnings.append("line \(number + 1): \(value) is not a colour")
                }
            default:
                let role = key.split(separator: "@").first.map(String.init) ?? key
                guard Self.roles.contains(role), key == role || key == role + "@16" else {
                    warnings.append("line \(number + 1): unknown key \(key)")
                    continue
                }
                overrides[key] = value
            }
        }
        name = themeName
        for (key, value) in overrides {
            values[key] = value
            // A role given without its 16-colour variant uses that value everywhere.
            if !key.contains("@"), overrides[key + "@16"] == nil { values[key + "@16"] = nil }
        }
        for (key, value) in values where Self.parse(value, palette: palette) == nil {
            warnings.append("\(key) = \(value): not a style (FG [on BG] [bold|dim|underline|reverse])")
        }
    }

    /// The style of `role` on a terminal with `depth` colours.
    public func style(_ role: String, depth: ColorDepth) -> Style {
        let useVariant = depth == .c16 || depth == .mono
        let text = (useVariant ? values[role + "@16"] : nil) ?? values[role] ?? "default"
        var style = Self.parse(text, palette: palette) ?? .plain
        style.foreground = style.foreground.reduced(to: depth)
        style.background = style.background.reduced(to: depth)
        if depth == .mono, values[role + "@16"] == nil, Self.parse(text, palette: palette)?.background != .standard {
            style.attributes.insert(.reverse)  // a coloured band stays visible without colours
        }
        return style
    }

    /// Parses `FG [on BG] [attributes]`; attributes may also come first or between.
    static func parse(_ text: String, palette: [String: TerminalColor]) -> Style? {
        var style = Style()
        let attributeNames: [String: TextAttributes] = ["bold": .bold, "dim": .dim, "underline": .underline, "reverse": .reverse]
        var words = text.split(separator: " ").map(String.init)[...]
        var sawForeground = false
        while let word = words.popFirst() {
            if let attribute = attributeNames[word] {
                style.attributes.insert(attribute)
            } else if word == "on" {
                guard let next = words.popFirst(), let color = color(next, palette: palette) else { return nil }
                style.background = color
            } else if !sawForeground, let color = color(word, palette: palette) {
                style.foreground = color
                sawForeground = true
            } else {
                return nil
            }
        }
        return style
    }

    static let ansiNames = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]

    static func color(_ text: String, palette: [String: TerminalColor]) -> TerminalColor? {
        if text == "default" { return .standard }
        if let color = palette[text] { return color }
        if let index = ansiNames.firstIndex(of: text) { return .indexed(UInt8(index)) }
        if text.hasPrefix("bright-"), let index = ansiNames.firstIndex(of: String(text.dropFirst(7))) {
            return .indexed(UInt8(index + 8))
        }
        if let index = UInt8(text) { return .indexed(index) }
        if text.hasPrefix("#"), text.count == 7, let value = UInt32(text.dropFirst(), radix: 16) {
            return .rgb(UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF))
        }
        return nil
    }

    /// Loads `themes/NAME.theme` from the first of `folders` that has it; the defaults (with a
    /// warning) when none does.
    public static func load(_ name: String, from folders: [URL]) -> Theme {
        for folder in folders {
            let file = folder.appendingPathComponent("\(name).theme")
            if let text = try? String(contentsOf: file, encoding: .utf8) {
                return Theme(parsing: text, name: name)
            }
        }
        var theme = Theme()
        theme.warnings.append("theme \(name) not found in \(folders.map(\.path).joined(separator: ", ")); using the defaults")
        return theme
    }
}
