import FishConsole
import FishConsoleTestSupport
import FishTestSupport
import Foundation
import Testing

/// Every view rendered into the cell grid at 80x24 and 120x40, in UTF-8 and ASCII, driven by
/// scripted keys and compared with golden files (re-record with FISHOPS_RECORD_GOLDEN=1).
@Suite struct ViewSnapshotTests {
    /// Key scripts that bring up each view.
    static let scripts: [(name: String, keys: [Key])] = [
        ("overview", []),
        ("runs", command("runs")),
        ("run-detail", command("runs") + [.down, .enter]),
        ("run-evaluation-missing", command("runs") + [.down, .enter, .character("e")]),
        (
            "runs-filtered",
            command("runs") + [
                .character("/"), .character("t"), .character("r"), .character("a"),
                .character("i"), .character("n"), .character("-"), .character("b"), .enter,
            ]
        ),
        ("compare", command("runs") + [.down, .character(" "), .character(" "), .character("c")]),
        ("models", command("models")),
        ("versions", command("models") + [.enter]),
        ("promote-dialog", command("models") + [.enter, .down, .character("p")]),
        ("history", command("models") + [.enter, .character("h")]),
        ("train", command("train")),
        ("classify", command("classify")),
        ("logs", command("logs")),
        ("cluster", command("cluster")),
        ("serve", command("serve")),
        ("server", command("serve") + [.enter]),
        ("help", command("runs") + [.character("?")]),
        ("command-mode", [.character(":"), .character("m"), .character("o")]),
    ]

    static func command(_ name: String) -> [Key] {
        [.character(":")] + name.map { .character($0) } + [.enter]
    }

    @Test(arguments: [(80, 24), (120, 40)], [false, true])
    func everyView(size: (Int, Int), ascii: Bool) throws {
        let context = try ConsoleFixture.store()
        for script in Self.scripts {
            let fixture = HeadlessConsole(context: context, ascii: ascii)
            fixture.press(script.keys)
            try ConsoleFixture.expectGolden(
                fixture.render(width: size.0, height: size.1),
                "\(script.name)-\(size.0)x\(size.1)\(ascii ? "-ascii" : "")")
        }
    }

    @Test func tooSmallTerminalSaysSo() throws {
        let fixture = HeadlessConsole(context: try ConsoleFixture.store())
        let text = fixture.render(width: 60, height: 20).text
        #expect(text.contains("terminal too small") && text.contains("60x20; FishOps needs 80x24"))
    }

    @Test func asciiModeUsesNoUnicode() throws {
        let context = try ConsoleFixture.store()
        for script in Self.scripts {
            let fixture = HeadlessConsole(context: context, ascii: true)
            fixture.press(script.keys)
            let text = fixture.render().text
            let nonASCII = text.unicodeScalars.filter { !$0.isASCII }
            #expect(nonASCII.isEmpty, "\(script.name) has non-ASCII characters")
        }
    }
}
