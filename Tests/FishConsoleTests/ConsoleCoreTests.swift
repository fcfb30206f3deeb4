import FishConsole
import FishConsoleTestSupport
import FishServices
import FishStore
import FishTestSupport
import Foundation
import Testing

/// The rendering core, themes, colour depths, keys and config, without a terminal.
@Suite struct ConsoleCoreTests {
    static let themes = Fixtures.root.appendingPathComponent("themes")

    @Test func frameDiffSendsOnlyChangedRuns() {
        var first = Canvas(width: 10, height: 3)
        first.write("hello", x: 0, y: 0)
        #expect(first.changes(since: nil).count == 3)  // one run per row on the first frame
        var second = first
        #expect(second.changes(since: first).isEmpty)
        second.write("J", x: 0, y: 0)
        second.write("!!", x: 6, y: 2, style: Style(attributes: .bold))
        let runs = second.changes(since: first)
        #expect(runs.map(\.x) == [0, 6] && runs.map(\.y) == [0, 2])
        #expect(runs.map { String($0.characters) } == ["J", "!!"] && runs[1].style.attributes == .bold)
        #expect(Canvas(width: 11, height: 3).changes(since: first).count == 3)  // resized: everything
    }

    @Test func writesAreClipped() {
        var canvas = Canvas(width: 6, height: 2)
        canvas.write("abcdefgh", x: -2, y: 0)
        canvas.write("xyz", x: 1, y: 1, clip: Rect(x: 0, y: 0, width: 3, height: 2))
        #expect(canvas.text == "cdefgh\n xy   ")
        canvas.write("out", x: 0, y: 5)
        #expect(canvas.text == "cdefgh\n xy   ")
    }

    @Test func everyShippedThemeLoadsWithoutWarnings() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.themes.path).filter { $0.hasSuffix(".theme") }
        #expect(Set(files).isSuperset(of: ["default.theme", "light.theme", "tty16.theme", "mono.theme", "REFERENCE.theme"]))
        for file in files {
            let theme = Theme.load(String(file.dropLast(6)), from: [Self.themes])
            #expect(theme.warnings.isEmpty, "\(file): \(theme.warnings)")
        }
    }

    @Test func referenceThemeListsEveryRole() throws {
        let text = try String(contentsOf: Self.themes.appendingPathComponent("REFERENCE.theme"), encoding: .utf8)
        let listed = Set(
            text.split(separator: "\n").compactMap { line -> String? in
                guard line.hasPrefix("# "), line.contains(" = ") else { return nil }
                return String(line.dropFirst(2).split(separator: " ")[0])
            })
        let roles = Set(Theme.defaults.map(\.key))
        #expect(roles.subtracting(listed).isEmpty, "missing from REFERENCE.theme: \(roles.subtracting(listed))")
        // Uncommenting every line must give a theme without warnings.
        let uncommented = text.split(separator: "\n").map {
            $0.hasPrefix("# ") && $0.contains(" = ") ? String($0.dropFirst(2)) : String($0)
        }
        #expect(Theme(parsing: uncommented.joined(separator: "\n"), name: "reference").warnings.isEmpty)
    }

    @Test func badThemeLinesWarnAndFallBack() {
        let theme = Theme(
            parsing: "format = 1\nui.title = \"#ff0000 bold\"\nui.nonsense = red\nui.error = sparkly\nbroken line\n",
            name: "test")
        #expect(theme.warnings.count == 3)
        #expect(theme.warnings.contains { $0.contains("unknown key ui.nonsense") })
        #expect(theme.style("ui.title", depth: .trueColor) == Style(foreground: .rgb(255, 0, 0), attributes: .bold))
        #expect(theme.style("table.header", depth: .trueColor).attributes == [.bold, .underline])  // a compiled default
    }

    @Test func coloursDegradeWithTheDepth() {
        let theme = Theme()
        let selected = [ColorDepth.trueColor, .c256, .c16, .mono].map { theme.style("table.row.selected", depth: $0) }
        #expect(selected[0].background == .rgb(0x83, 0xa5, 0x98))
        guard case .indexed = selected[1].background else {
            Issue.record("256 colours: \(selected[1])")
            return
        }
        #expect(selected[2] == Style(attributes: .reverse))  // the hand-tuned 16-colour value
        #expect(selected[3] == Style(attributes: .reverse))
        #expect(theme.style("ui.good", depth: .mono) == Style())
        #expect(TerminalColor.rgb(250, 10, 10).reduced(to: .c16) == .indexed(9))
        #expect(TerminalColor.indexed(196).reduced(to: .c16) == .indexed(9))
    }

    @Test func oneViewInEveryDepth() throws {
        let context = try ConsoleFixture.store()
        var selectedStyles: [Style] = []
        for depth in ColorDepth.allCases {
            let fixture = HeadlessConsole(context: context, depth: depth)
            fixture.press(ViewSnapshotTests.command("runs"))
            let canvas = fixture.render()
            #expect(canvas.text.contains("train-b"))
            selectedStyles.append(canvas[2, 3].style)  // the first run's row is selected
        }
        #expect(Set(selectedStyles).count == 3)  // truecolor, 256 colours, and reverse video for 16 and mono
        #expect(selectedStyles.last?.attributes.contains(.reverse) == true && selectedStyles.last?.background == .standard)
    }

    @Test func keysAreRemappableAndReadOnlyDropsDangerousActions() {
        let actions = [Action("promote", .character("p"), "promote", dangerous: true), Action("open", .enter, "open")]
        let remapped = ActionRegistry(remapped: ["open": Key(name: "ctrl-o") ?? .enter])
        #expect(remapped.action(for: .control("o"), in: actions)?.id == "open")
        #expect(remapped.action(for: .enter, in: actions) == nil)
        let readOnly = ActionRegistry(readOnly: true)
        #expect(readOnly.action(for: .character("p"), in: actions) == nil)
        #expect(readOnly.resolve(actions).map(\.id) == ["open"])
        #expect(Key(name: "space") == .character(" ") && Key(name: "pgdn") == .pageDown && Key(name: "nonsense") == nil)
    }

    @Test func configFileIsParsedAndBadLinesWarn() {
        let config = ConsoleConfig(
            parsing: "theme = light\ncolor = 16\nascii = true\nkeys.quit = x\nkeys.open = 7up\nfoo = bar\n")
        #expect(config.theme == "light" && config.depth == .c16 && config.ascii == true)
        #expect(config.keys == ["quit": .character("x")])
        #expect(config.warnings.count == 2)
        #expect(ConsoleConfig.detectDepth(environment: ["NO_COLOR": "1"], colors: 256) == .mono)
        #expect(ConsoleConfig.detectDepth(environment: ["COLORTERM": "truecolor"], colors: 256) == .trueColor)
        #expect(ConsoleConfig.detectDepth(environment: [:], colors: 8) == .c16)
        #expect(ConsoleConfig.localeIsUTF8(["LANG": "en_US.UTF-8"]) && !ConsoleConfig.localeIsUTF8(["LANG": "C"]))
        #expect(!ConsoleConfig.localeIsUTF8(["LC_ALL": "C", "LANG": "en_US.UTF-8"]))
    }

    @Test func readOnlyConsoleCannotPromote() throws {
        let fixture = HeadlessConsole(context: try ConsoleFixture.store(), readOnly: true)
        fixture.press(ViewSnapshotTests.command("models") + [.enter, .down, .character("p")])
        let text = fixture.render().text
        #expect(!text.contains("promote ─") && !text.contains("reason:"))
        #expect(text.contains("read-only"))
    }

    @Test func promotingThroughTheDialogMovesTheAliasAndIsAudited() throws {
        let context = try ConsoleFixture.store()
        let fixture = HeadlessConsole(context: context)
        fixture.press(ViewSnapshotTests.command("models") + [.enter, .character("p")])  // v2, the newest, is selected
        #expect(fixture.render().text.contains("production of fish-classifier moves from v1 to v2."))
        fixture.press([.enter])  // no reason yet: refused
        #expect(fixture.render().text.contains("type a reason first"))
        fixture.press(fixture.type("better F1") + [.enter])
        #expect(try context.store.aliases(model: "fish-classifier")["production"] == 2)
        let last = try #require(try context.store.auditLog(model: "fish-classifier").last)
        #expect(last.reason == "better F1" && last.actor == "tester" && last.toVersion == 2)
        #expect(fixture.render().text.contains("production of fish-classifier moved from v1 to v2"))
        fixture.press([.character("r")])
        #expect(fixture.render().text.contains("moves back from v2 to v1"))
        fixture.press([.escape])
        #expect(try context.store.aliases(model: "fish-classifier")["production"] == 2)  // cancelled
    }

    @Test func pathCompletionCompletesFoldersAndCommonPrefixes() throws {
        let folder = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("salmon-photos"), withIntermediateDirectories: true)
        try Data().write(to: folder.appendingPathComponent("sardine-1.jpg"))
        try Data().write(to: folder.appendingPathComponent("sardine-2.jpg"))
        #expect(PathCompletion.complete(folder.path + "/sal") == folder.path + "/salmon-photos/")
        #expect(PathCompletion.complete(folder.path + "/sar") == folder.path + "/sardine-")
        #expect(PathCompletion.complete(folder.path + "/zz") == folder.path + "/zz")
    }
}
