import Foundation

/// A one-line text input with a cursor; Tab completes file paths when `completesPaths`.
public struct TextField: Sendable, Equatable {
    public var text: String
    public var cursor: Int
    public var completesPaths: Bool

    public init(_ text: String = "", completesPaths: Bool = false) {
        self.text = text
        cursor = text.count
        self.completesPaths = completesPaths
    }

    /// Applies an editing key; returns false for keys it does not use.
    public mutating func handle(_ key: Key) -> Bool {
        switch key {
        case let .character(character):
            text.insert(character, at: text.index(text.startIndex, offsetBy: cursor))
            cursor += 1
        case .backspace:
            guard cursor > 0 else { return true }
            text.remove(at: text.index(text.startIndex, offsetBy: cursor - 1))
            cursor -= 1
        case .delete:
            guard cursor < text.count else { return true }
            text.remove(at: text.index(text.startIndex, offsetBy: cursor))
        case .left: cursor = max(cursor - 1, 0)
        case .right: cursor = min(cursor + 1, text.count)
        case .home, .control("a"): cursor = 0
        case .end, .control("e"): cursor = text.count
        case .control("u"): (text, cursor) = ("", 0)
        case .tab where completesPaths:
            text = PathCompletion.complete(text)
            cursor = text.count
        default: return false
        }
        return true
    }

    /// Draws the field in `width` cells, scrolled so the cursor shows; the cursor cell is reversed.
    public func draw(_ canvas: inout Canvas, x: Int, y: Int, width: Int, style: Style, focused: Bool) {
        let start = max(0, cursor - width + 1)
        let visible = String(text.dropFirst(start).prefix(width))
        canvas.fill(Rect(x: x, y: y, width: width, height: 1), style: style)
        canvas.write(visible, x: x, y: y, style: style)
        if focused {
            var cursorStyle = style
            cursorStyle.attributes.insert(.reverse)
            let column = x + cursor - start
            if column < x + width { canvas[column, y] = Cell(character: canvas[column, y].character, style: cursorStyle) }
        }
    }
}

/// Completes a partly typed path to the longest common prefix of the entries it matches
/// (folders get a trailing slash).
public enum PathCompletion {
    public static func complete(_ partial: String) -> String {
        let expanded = partial.hasPrefix("~") ? (partial as NSString).expandingTildeInPath : partial
        let directory: String
        let prefix: String
        if let slash = expanded.lastIndex(of: "/") {
            (directory, prefix) = (String(expanded[...slash]), String(expanded[expanded.index(after: slash)...]))
        } else {
            (directory, prefix) = ("", expanded)
        }
        let listed = (try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? []
        let matches = listed.filter { $0.hasPrefix(prefix) && !($0.hasPrefix(".") && !prefix.hasPrefix(".")) }.sorted()
        guard let first = matches.first else { return partial }
        var common = first
        for match in matches.dropFirst() {
            while !match.hasPrefix(common) { common.removeLast() }
        }
        var completed = directory + common
        var isFolder: ObjCBool = false
        if matches.count == 1, FileManager.default.fileExists(atPath: completed, isDirectory: &isFolder), isFolder.boolValue {
            completed += "/"
        }
        return completed
    }
}
