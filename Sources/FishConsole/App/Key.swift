import Foundation

/// A key press, as the console understands it.
public enum Key: Hashable, Sendable {
    case character(Character)
    case control(Character)
    case enter, escape, tab, backTab, backspace, delete
    case up, down, left, right, home, end, pageUp, pageDown
    case resize

    /// Parses a key name as used in the config file and help: `q`, `:`, `space`, `enter`, `esc`,
    /// `ctrl-r`, `up`, `pgdn`, ...
    public init?(name: String) {
        let named: [String: Key] = [
            "enter": .enter, "esc": .escape, "escape": .escape, "tab": .tab, "backtab": .backTab,
            "backspace": .backspace, "delete": .delete, "up": .up, "down": .down, "left": .left, "right": .right,
            "home": .home, "end": .end, "pgup": .pageUp, "pgdn": .pageDown, "space": .character(" "),
        ]
        let lowered = name.lowercased()
        if let key = named[lowered] {
            self = key
            return
        }
        if lowered.hasPrefix("ctrl-"), lowered.count == 6, let letter = lowered.last, letter.isLetter {
            self = .control(letter)
            return
        }
        guard name.count == 1, let character = name.first else { return nil }
        self = .character(character)
    }

    /// The name shown in hints and help.
    public var name: String {
        switch self {
        case .character(" "): return "space"
        case let .character(character): return String(character)
        case let .control(letter): return "ctrl-\(letter)"
        case .enter: return "enter"
        case .escape: return "esc"
        case .tab: return "tab"
        case .backTab: return "shift-tab"
        case .backspace: return "backspace"
        case .delete: return "delete"
        case .up: return "up"
        case .down: return "down"
        case .left: return "left"
        case .right: return "right"
        case .home: return "home"
        case .end: return "end"
        case .pageUp: return "pgup"
        case .pageDown: return "pgdn"
        case .resize: return "resize"
        }
    }

    /// The character typed into a text field, if the key types one.
    public var typed: Character? {
        if case let .character(character) = self { return character }
        return nil
    }
}

/// Something the operator can do with a key: one registry drives key handling, the footer hints
/// and the `?` help.
public struct Action: Sendable, Equatable {
    /// Stable identifier, used to remap keys in the config file (`keys.ID = KEY`).
    public let id: String
    public var key: Key
    public let description: String
    /// Shown in the footer (every action is in `?` help).
    public let visible: Bool
    /// Changes shared state (promote, rollback, cancel): hidden with `--readonly`, always confirmed.
    public let dangerous: Bool

    /// The description's first words, for the footer.
    public var hint: String {
        let cut = description.firstIndex { $0 == ":" || $0 == "(" } ?? description.endIndex
        return description[..<cut].trimmingCharacters(in: .whitespaces)
    }

    public init(_ id: String, _ key: Key, _ description: String, visible: Bool = true, dangerous: Bool = false) {
        (self.id, self.key, self.description, self.visible, self.dangerous) = (id, key, description, visible, dangerous)
    }
}

/// The actions in force, with the operator's key remapping and read-only mode applied.
public struct ActionRegistry: Sendable {
    public let remapped: [String: Key]
    public let readOnly: Bool

    public init(remapped: [String: Key] = [:], readOnly: Bool = false) {
        self.remapped = remapped
        self.readOnly = readOnly
    }

    /// `actions` as the operator has them: keys remapped, dangerous ones dropped when read-only.
    public func resolve(_ actions: [Action]) -> [Action] {
        actions.compactMap { action in
            if readOnly && action.dangerous { return nil }
            var resolved = action
            if let key = remapped[action.id] { resolved.key = key }
            return resolved
        }
    }

    /// The action `key` triggers among `actions`.
    public func action(for key: Key, in actions: [Action]) -> Action? {
        resolve(actions).first { $0.key == key }
    }
}
