import CNCurses

/// The only code that talks to ncurses: reads keys and sends the changed cells of each frame.
final class NCursesTerminal {
    /// Colours the terminal reported (0 without colour support).
    let colors: Int
    private var previous: Canvas?

    init() {
        colors = Int(fish_curses_start())
    }

    func stop() {
        fish_curses_stop()
    }

    var size: (width: Int, height: Int) { (Int(fish_columns()), Int(fish_rows())) }

    /// The next key, waiting up to `timeout` milliseconds.
    func read(timeout: Int) -> Key? {
        var code: UInt32 = 0
        var isFunctionKey: Int32 = 0
        guard fish_curses_read(Int32(timeout), &code, &isFunctionKey) == 1 else { return nil }
        if isFunctionKey != 0 { return Self.functionKey(Int32(code)) }
        switch code {
        case 10, 13: return .enter
        case 27: return .escape
        case 9: return .tab
        case 8, 127: return .backspace
        case 1...26: return .control(Character(Unicode.Scalar(code + 96) ?? "a"))
        default: return Unicode.Scalar(code).map { .character(Character($0)) }
        }
    }

    private static func functionKey(_ code: Int32) -> Key? {
        let keys: [Int32: Key] = [
            fish_key_up(): .up, fish_key_down(): .down, fish_key_left(): .left, fish_key_right(): .right,
            fish_key_home(): .home, fish_key_end(): .end, fish_key_page_up(): .pageUp, fish_key_page_down(): .pageDown,
            fish_key_backspace(): .backspace, fish_key_delete(): .delete, fish_key_enter(): .enter,
            fish_key_back_tab(): .backTab, fish_key_resize(): .resize,
        ]
        return keys[code]
    }

    /// Sends what changed since the last frame (everything after a resize).
    func draw(_ canvas: Canvas) {
        if previous.map({ $0.width != canvas.width || $0.height != canvas.height }) ?? true { fish_curses_erase() }
        for run in canvas.changes(since: previous) {
            var text = run.characters.map { $0.unicodeScalars.first.map { wchar_t(bitPattern: $0.value) } ?? 32 }
            text.append(0)
            fish_curses_put(
                Int32(run.y), Int32(run.x), text, Int32(run.characters.count), attributes(run.style.attributes),
                fish_curses_pair(color(run.style.foreground), color(run.style.background)))
        }
        fish_curses_flush()
        previous = canvas
    }

    private func attributes(_ attributes: TextAttributes) -> UInt32 {
        var value: UInt32 = 0
        if attributes.contains(.bold) { value |= fish_attr_bold() }
        if attributes.contains(.dim) { value |= fish_attr_dim() }
        if attributes.contains(.underline) { value |= fish_attr_underline() }
        if attributes.contains(.reverse) { value |= fish_attr_reverse() }
        return value
    }

    /// ncurses colour numbers: -1 default, else an index (RGB is shown as its nearest 256 colour).
    private func color(_ color: TerminalColor) -> Int32 {
        switch color {
        case .standard: return -1
        case let .indexed(index): return Int32(index) < Int32(colors) ? Int32(index) : -1
        case let .rgb(r, g, b): return colors >= 256 ? Int32(TerminalColor.nearest256(r, g, b)) : -1
        }
    }
}
