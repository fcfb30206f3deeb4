import Foundation

/// The characters used for frames, bars, marks and charts: Unicode, or plain ASCII for
/// terminals and locales without it.
public struct Glyphs: Sendable, Equatable {
    public let horizontal: Character, vertical: Character
    public let topLeft: Character, topRight: Character, bottomLeft: Character, bottomRight: Character
    /// Eighths of a cell for horizontal bars, empty to full.
    public let barEighths: [Character]
    public let mark: Character, selected: Character, ellipsis: String
    /// Charts with 2x4 braille dots per cell; otherwise one mark per cell.
    public let braille: Bool
    /// Sparkline levels, lowest to highest.
    public let sparkLevels: [Character]

    public static let unicode = Glyphs(
        horizontal: "─", vertical: "│", topLeft: "┌", topRight: "┐", bottomLeft: "└", bottomRight: "┘",
        barEighths: [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"], mark: "●", selected: "▶", ellipsis: "…", braille: true,
        sparkLevels: ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"])

    public static let ascii = Glyphs(
        horizontal: "-", vertical: "|", topLeft: "+", topRight: "+", bottomLeft: "+", bottomRight: "+",
        barEighths: [" ", " ", " ", " ", "#", "#", "#", "#", "#"], mark: "*", selected: ">", ellipsis: "~", braille: false,
        sparkLevels: ["_", ".", "-", "=", "+", "*", "#", "@"])

    /// A bar `width` cells long filled to `fraction` (0...1).
    public func bar(_ fraction: Double, width: Int) -> String {
        let eighths = Int((max(0, min(fraction, 1)) * Double(width * 8)).rounded())
        let full = String(repeating: barEighths[8], count: eighths / 8)
        let partial = eighths / 8 < width && eighths % 8 > 0 ? String(barEighths[eighths % 8]) : ""
        return (full + partial).padding(toLength: width, withPad: " ", startingAt: 0)
    }

    /// The last `width` of `values` as a sparkline scaled to their largest (blank for a zero).
    public func spark(_ values: [Double], width: Int) -> String {
        let shown = values.suffix(width)
        let high = shown.max() ?? 0
        let line = shown.map { value -> Character in
            guard value > 0, high > 0 else { return " " }
            return sparkLevels[min(Int(value / high * Double(sparkLevels.count - 1)), sparkLevels.count - 1)]
        }
        return String(line).padding(toLength: width, withPad: " ", startingAt: 0)
    }

    /// `text` cut to `width` cells, marked with the ellipsis when cut.
    public func fit(_ text: String, _ width: Int) -> String {
        guard text.count > width else { return text }
        guard width > ellipsis.count else { return String(text.prefix(max(width, 0))) }
        return String(text.prefix(width - ellipsis.count)) + ellipsis
    }
}
