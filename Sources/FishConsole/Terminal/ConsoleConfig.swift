public import Foundation

/// `$FISHOPS_HOME/console.conf`: flat `key = value` lines: `theme = NAME`, `color = truecolor|256|16|mono`,
/// `ascii = true|false`, `keys.ACTION = KEY` (see `?` for action names and keys).
public struct ConsoleConfig: Sendable {
    public var theme: String?
    public var depth: ColorDepth?
    public var ascii: Bool?
    public var keys: [String: Key] = [:]
    public var warnings: [String] = []

    public init() {}

    /// Parses the config text; bad lines become warnings (shown in `:logs`), never failures.
    public init(parsing text: String) {
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else {
                warnings.append("line \(number + 1): expected key = value")
                continue
            }
            let (key, value) = (parts[0], parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
            switch key {
            case "theme": theme = value
            case "color":
                if let depth = ColorDepth(rawValue: value) {
                    self.depth = depth
                } else {
                    warnings.append("line \(number + 1): color must be truecolor, 256, 16 or mono")
                }
            case "ascii":
                if let flag = Bool(value) {
                    ascii = flag
                } else {
                    warnings.append("line \(number + 1): ascii must be true or false")
                }
            case _ where key.hasPrefix("keys."):
                if let parsed = Key(name: value) {
                    keys[String(key.dropFirst(5))] = parsed
                } else {
                    warnings.append("line \(number + 1): \(value) is not a key name")
                }
            default: warnings.append("line \(number + 1): unknown key \(key)")
            }
        }
    }

    static func load(home: URL) throws -> ConsoleConfig {
        let file = home.appendingPathComponent("console.conf")
        guard FileManager.default.fileExists(atPath: file.path) else { return ConsoleConfig() }
        return ConsoleConfig(parsing: try String(contentsOf: file, encoding: .utf8))
    }

    /// Colour depth from the environment: `NO_COLOR` → mono, `COLORTERM=truecolor|24bit` → truecolor,
    /// else what the terminal reports.
    public static func detectDepth(environment: [String: String], colors: Int) -> ColorDepth {
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return .mono }
        if ["truecolor", "24bit"].contains(environment["COLORTERM"] ?? "") && colors >= 256 { return .trueColor }
        if colors >= 256 { return .c256 }
        if colors >= 8 { return .c16 }
        return .mono
    }

    /// Whether the locale's character set is UTF-8 (LC_ALL, then LC_CTYPE, then LANG).
    public static func localeIsUTF8(_ environment: [String: String]) -> Bool {
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"].lazy.compactMap { environment[$0] }.first { !$0.isEmpty } ?? ""
        return locale.uppercased().replacingOccurrences(of: "-", with: "").contains("UTF8")
    }

    /// Where themes are looked up: `$FISHOPS_HOME/themes`, then the `themes/` folder of the checkout
    /// the binary was built in.
    public static func themeFolders(home: URL) -> [URL] {
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        var folders = [home.appendingPathComponent("themes")]
        var folder = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            folders.append(folder.appendingPathComponent("themes"))
            folder = folder.deletingLastPathComponent()
        }
        return folders
    }
}
