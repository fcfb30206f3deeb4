import ArgumentParser
import FishConsole
import Foundation

/// `fishops` with no arguments: the operations console (on a terminal).
struct Console: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Open the operations console (the default command). See docs/console.md.")

    @Option(help: "Theme from themes/ or $FISHOPS_HOME/themes (default: default, or mono without colours).")
    var theme: String?

    @Option(help: "Colour depth: truecolor, 256, 16 or mono (default: detected; NO_COLOR means mono).")
    var color: String?

    @Flag(help: "Plain ASCII: no box-drawing, blocks or braille (default when the locale is not UTF-8).")
    var ascii = false

    @Flag(help: "Hide dangerous actions (promote, rollback, cancel).")
    var readonly = false

    @Option(help: "Also watch the inference server at this URL in :serve (repeatable, or comma-separated).")
    var server: [String] = []

    func run() throws {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            printError("fishops: the console needs a terminal; showing the status instead (fishops --help lists the commands)")
            return try Status().run()
        }
        var options = ConsoleRunner.Options()
        options.theme = theme
        if let color {
            guard let depth = ColorDepth(rawValue: color) else {
                throw ValidationError("--color must be truecolor, 256, 16 or mono")
            }
            options.depth = depth
        }
        if ascii { options.ascii = true }
        options.readOnly = readonly
        let context = try makeContext(servers: server)
        try reporting { try ConsoleRunner.run(context: context, options: options) }
    }
}
