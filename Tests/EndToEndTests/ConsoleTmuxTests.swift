import FishTestSupport
import Foundation
import Testing

/// A tmux session on a scratch tmux server: keys sent, the pane read back.
struct TmuxSession {
    static let tmux = ["/usr/bin/tmux", "/usr/local/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }
    let socket: String
    let name = "fishops"

    /// Starts `command` in an 80x24 window on a private server, from the repository root.
    init(command: String, environment: [String: String]) throws {
        socket = FileManager.default.temporaryDirectory.appendingPathComponent("tmux-\(UUID().uuidString.prefix(8))").path
        let exports = environment.map { "\($0.key)='\($0.value)'" }.joined(separator: " ")
        // The server this starts inherits the client's descriptors and outlives it, so Foundation
        // would never see the client end: it is not waited for; `has-session` tells when it is up.
        try run(
            [
                "new-session", "-d", "-s", name, "-x", "80", "-y", "24", "-c", Fixtures.root.path,
                "env TERM=xterm-256color LANG=C.UTF-8 \(exports) \(command); echo EXITED:$?; sleep 60",
            ], wait: false)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, (try? run(["has-session", "-t", name]))?.status != 0 { usleep(50_000) }
    }

    @discardableResult
    func run(_ arguments: [String], wait: Bool = true) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.tmux ?? "tmux")
        process.arguments = ["-S", socket] + arguments
        let output = Pipe()
        process.standardOutput = wait ? output : FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard wait else { return (0, "") }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func keys(_ keys: String...) throws { try run(["send-keys", "-t", name] + keys) }

    /// Types `text` literally.
    func type(_ text: String) throws { try run(["send-keys", "-t", name, "-l", text]) }

    /// Types `text`, presses Enter and waits for `expected` on the screen.
    func enter(_ text: String, expecting expected: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try type(text)
        try keys("Enter")
        try waitFor(expected, sourceLocation: sourceLocation)
    }

    var screen: String { (try? run(["capture-pane", "-t", name, "-p"]))?.output ?? "" }

    /// Waits until the pane shows `text` (polling, not sleeping a fixed time); returns the screen.
    @discardableResult
    func waitFor(_ text: String, timeout: TimeInterval = 20, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let shown = screen
            if shown.contains(text) { return shown }
            usleep(50_000)
        }
        let shown = screen
        try #require(
            shown.contains(text), "waited \(timeout) s for \"\(text)\"; the screen shows:\n\(shown)",
            sourceLocation: sourceLocation)
        return shown
    }

    /// Ends the session: its tmux server and the programs in its panes (SIGKILL, since a program
    /// started from a test's thread may have SIGTERM and SIGHUP blocked and outlive kill-server).
    func kill() {
        let pids = ((try? run(["list-panes", "-a", "-F", "#{pane_pid}"]))?.output ?? "").split(separator: "\n").compactMap {
            Int32($0)
        }
        let server = Int32(
            ((try? run(["display-message", "-p", "#{pid}"]))?.output ?? "").trimmingCharacters(in: .whitespacesAndNewlines))
        _ = try? run(["kill-server"])
        for pid in pids {
            Foundation.kill(-pid, SIGKILL)
            Foundation.kill(pid, SIGKILL)
        }
        if let server { Foundation.kill(server, SIGKILL) }
    }
}

/// The real binary in tmux at 80x24: classify, train, promote, history, quit.
@Suite(
    .enabled(if: TmuxSession.tmux != nil, "needs tmux (Debian package; make test-deps)"),
    .enabled(if: Fixtures.binary != nil, "needs the fishops binary (swift build)"),
    .enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"),
    .enabled(if: Fixtures.sharedAvailable, "needs ../shared"))
struct ConsoleTmuxTests {
    @Test func classifyTrainPromoteAndQuit() throws {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let binary = try #require(Fixtures.binary)
        let session = try TmuxSession(
            command: binary.path,
            environment: [
                "FISHOPS_HOME": home.path, "FISHOPS_USER": "operator",
                // The train form starts at the configured data folder.
                "FISHOPS_DATA": Fixtures.shared.appendingPathComponent("datasets/large-scale-fish").path,
            ])
        defer { session.kill() }
        try session.waitFor("overview")
        try session.waitFor("imagenet-lite0")

        try session.enter(":classify", expecting: "path (tab completes")
        try session.enter(Fixtures.shared.appendingPathComponent("reference/images/coffee.png").path, expecting: "espresso")

        try session.enter(":train", expecting: "new training run")
        try session.type("s")
        try session.waitFor("finished: fish-classifier v1", timeout: 300)

        try session.enter(":models", expecting: "fish-classifier")
        try session.keys("Enter")
        try session.waitFor("fish-classifier versions")
        try session.type("p")
        try session.waitFor("moves from nothing to v1")
        try session.enter("first fish model", expecting: "production of fish-classifier moved from nothing to v1")
        try session.waitFor("production")
        try session.type("h")
        let history = try session.waitFor("promote production")
        #expect(history.contains("operator") && history.contains("first fi"))  // the reason, cut to the column

        try session.type("q")
        try session.waitFor("EXITED:0")
    }
}
