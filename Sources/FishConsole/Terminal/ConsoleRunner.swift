import Dispatch
public import FishServices
import Foundation

/// Runs the console on the terminal: the UI loop reads keys (50 ms at most), applies them,
/// ticks the visible view's loaders and redraws when something changed. All data arrives from
/// background threads through the loaders.
public enum ConsoleRunner {
    /// Console options from the command line and the config file.
    public struct Options: Sendable {
        public var theme: String?
        public var depth: ColorDepth?
        public var ascii: Bool?
        public var readOnly = false

        public init() {}
    }

    /// Opens the console and returns when the operator quits.
    public static func run(context: ServiceContext, options: Options) throws {
        let config = try ConsoleConfig.load(home: context.config.home)
        let terminal = NCursesTerminal()
        defer { terminal.stop() }
        let environment = ProcessInfo.processInfo.environment
        let depth = options.depth ?? config.depth ?? ConsoleConfig.detectDepth(environment: environment, colors: terminal.colors)
        let ascii = options.ascii ?? config.ascii ?? !ConsoleConfig.localeIsUTF8(environment)
        let theme = Theme.load(
            options.theme ?? config.theme ?? (depth == .mono ? "mono" : "default"),
            from: ConsoleConfig.themeFolders(home: context.config.home))
        let settings = ConsoleApp.Settings(
            depth: depth, glyphs: ascii ? .ascii : .unicode, theme: theme,
            actions: ActionRegistry(remapped: config.keys, readOnly: options.readOnly))
        let app = ConsoleApp(context: context, settings: settings)
        for warning in config.warnings { app.log.add("console.conf: \(warning)", isError: true) }
        var lastTick = Date.distantPast
        var dirty = true
        while !app.wantsQuit {
            if dirty {
                let (width, height) = terminal.size
                var canvas = Canvas(width: width, height: height)
                app.render(into: &canvas)
                terminal.draw(canvas)
                dirty = false
            }
            if let key = terminal.read(timeout: 50) {
                app.handle(key)
                dirty = true
                // Drain keys that arrived meanwhile before drawing again.
                while let next = terminal.read(timeout: 0) { app.handle(next) }
            }
            if Date().timeIntervalSince(lastTick) >= 0.25 || app.hasPendingWork {
                app.tick()
                lastTick = Date()
                dirty = true
            }
            if app.takeWake() { dirty = true }
        }
    }
}
