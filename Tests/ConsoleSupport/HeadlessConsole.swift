public import FishConsole
public import FishServices
public import Foundation

/// The console without a terminal, for tests: keys in, screens out, and every load a key starts
/// finished before the next key.
public struct HeadlessConsole {
    public let app: ConsoleApp

    public init(
        context: ServiceContext, depth: ColorDepth = .c256, ascii: Bool = false, readOnly: Bool = false,
        theme: Theme = Theme()
    ) {
        let settings = ConsoleApp.Settings(
            depth: depth, glyphs: ascii ? .ascii : .unicode, theme: theme, actions: ActionRegistry(readOnly: readOnly))
        app = ConsoleApp(context: context, settings: settings)
        settle()
    }

    /// Presses `keys` (strings are typed character by character), letting loads finish after each.
    public func press(_ keys: [Key]) {
        for key in keys {
            app.handle(key)
            settle()
        }
    }

    /// The keys that type `text`.
    public func type(_ text: String) -> [Key] { text.map { .character($0) } }

    /// The screen as the terminal would show it.
    public func render(width: Int = 80, height: Int = 24) -> Canvas {
        var canvas = Canvas(width: width, height: height)
        app.render(into: &canvas)
        return canvas
    }

    /// Ticks until the console is idle over three ticks in a row, a few milliseconds apart (a load
    /// that finishes can start the next one, such as a run's history after its summary, on a later
    /// tick), or `timeout` passes.
    public func settle(timeout: TimeInterval = 30) {
        let deadline = Date().addingTimeInterval(timeout)
        var idleTicks = 0
        repeat {
            app.tick()
            idleTicks = app.isIdle ? idleTicks + 1 : 0
            if idleTicks >= 3 { return }
            usleep(2_000)
        } while Date() < deadline
    }
}
