import FishStore
import FishTestSupport
import Foundation
import Testing

/// Event hooks with real processes: a `--post` hook to a local HTTP receiver (a refused connection
/// first, then a retry), an `--exec` hook given the event on standard input, a training run's event.
@Suite(
    .enabled(if: Fixtures.binary != nil, "needs the fishops binary (swift build)"),
    .enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"),
    .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "needs python3 for the receiver"))
struct HooksCommandTests {
    /// A home with imagenet-lite0 v1 and v2 (the same weights imported twice).
    func homeWithTwoVersions() throws -> URL {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let again = home.appendingPathComponent("models/imagenet-lite0/1/weights.safetensors").path
        let run = try FishOpsProcess.run(["weights", "import", again, "--name", "imagenet-lite0"], home: home)
        try #require(run.status == 0, "\(run.stderr)")
        return home
    }

    @Test func aPostHookIsRetriedAfterARefusedConnectionAndEveryAttemptIsLogged() throws {
        let home = try homeWithTwoVersions()
        let port = try freeLoopbackPort()
        let tokenFile = try Fixtures.file(named: "hook-token", contents: Data("s3cret-hook-token\n".utf8))
        let added = try FishOpsProcess.run(
            ["hooks", "add", "web", "--on", "alias_moved", "--post", "http://127.0.0.1:\(port)/fish", "--token-file", tokenFile],
            home: home)
        try #require(added.status == 0, "\(added.stderr)")

        // Nobody listens yet: the promotion goes through, the delivery fails and is kept.
        let promoted = try FishOpsProcess.run(["models", "promote", "imagenet-lite0", "1", "--reason", "first"], home: home)
        #expect(promoted.status == 0, "\(promoted.stderr)")
        #expect(promoted.stderr.contains("hooks: 1 event(s) not delivered yet"))
        let refused = try FishOpsProcess.run(["hooks", "deliver"], home: home)
        #expect(refused.status == 1 && refused.stdout.contains("0 delivered, 1 waiting"), "\(refused.stdout)")

        let receiver = try HookReceiver(port: port)
        defer { receiver.stop() }
        let delivered = try FishOpsProcess.run(["hooks", "deliver", "--json"], home: home)
        #expect(delivered.status == 0, "\(delivered.stdout) \(delivered.stderr)")
        let received = try receiver.requests()
        try #require(received.count == 1)
        #expect(received[0].authorization == "Bearer s3cret-hook-token")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(received[0].body.utf8)) as? [String: Any])
        #expect(body["event"] as? String == "alias_moved" && body["model"] as? String == "imagenet-lite0")
        #expect(
            body["alias"] as? String == "production" && body["to_version"] as? Int == 1 && body["reason"] as? String == "first")

        // The log: two attempts at one event (the same delivery id), failed then delivered; no token in it.
        let log = try FishOpsProcess.run(["hooks", "log", "--json"], home: home)
        let attempts = log.jsonLines
        #expect(attempts.map { $0["outcome"] as? String } == ["failed", "failed", "delivered"])
        #expect(Set(attempts.compactMap { $0["event_id"] as? Int }) == [body["delivery_id"] as? Int ?? -1])
        #expect(attempts.map { $0["attempt"] as? Int } == [1, 2, 3])
        #expect(!log.stdout.contains("s3cret"))

        // Every later event reaches it once per attempt recorded.
        _ = try FishOpsProcess.run(["models", "promote", "imagenet-lite0", "2", "--reason", "second", "--force"], home: home)
        _ = try FishOpsProcess.run(["models", "rollback", "imagenet-lite0", "--reason", "back"], home: home)
        let deliveredLines = try FishOpsProcess.run(["hooks", "log", "--json"], home: home).jsonLines
            .filter { $0["outcome"] as? String == "delivered" }
        let bodies = try receiver.requests().compactMap {
            try JSONSerialization.jsonObject(with: Data($0.body.utf8)) as? [String: Any]
        }
        #expect(bodies.count == deliveredLines.count && bodies.count == 3)
        #expect(bodies.map { $0["to_version"] as? Int } == [1, 2, 1])
        #expect(bodies.last?["action"] as? String == "rollback")
    }

    @Test(.enabled(if: Fixtures.sharedAvailable, "needs ../shared/datasets"))
    func anExecHookGetsTheEventOnStandardInputAndARefusalAndATrainingRunRaiseTheirs() throws {
        let home = try homeWithTwoVersions()
        let events = home.appendingPathComponent("events")
        try FileManager.default.createDirectory(at: events, withIntermediateDirectories: true)
        let command = "cat > \(events.path)/$FISHOPS_EVENT-$(date +%s%N).json"
        let added = try FishOpsProcess.run(
            ["hooks", "add", "files", "--on", "promotion_refused,training_finished", "--exec", command], home: home)
        try #require(added.status == 0, "\(added.stderr)")
        #expect(
            try FishOpsProcess.run(["hooks", "add", "files", "--on", "alias_moved", "--exec", "true"], home: home).status == 1)
        #expect(try FishOpsProcess.run(["hooks", "add", "bad", "--on", "drift", "--exec", "true"], home: home).status != 0)

        let train = try FishOpsProcess.run(try MLflowMirrorTests.trainArguments(seed: 7), home: home)
        try #require(train.status == 0, "\(train.stderr)")
        let report = try #require(train.jsonLines.last)
        // A second run does not beat the first on the same split: the gate refuses it.
        _ = try FishOpsProcess.run(["models", "promote", "fish-classifier", "1", "--reason", "first"], home: home)
        let second = try FishOpsProcess.run(try MLflowMirrorTests.trainArguments(seed: 7, extra: ["--epochs", "1"]), home: home)
        try #require(second.status == 0, "\(second.stderr)")
        let refused = try FishOpsProcess.run(["models", "promote", "fish-classifier", "2", "--reason", "worse"], home: home)

        let files = try FileManager.default.contentsOfDirectory(atPath: events.path).sorted()
        func bodies(_ prefix: String) throws -> [[String: Any]] {
            try files.filter { $0.hasPrefix(prefix) }.map {
                try #require(
                    try JSONSerialization.jsonObject(with: Data(contentsOf: events.appendingPathComponent($0))) as? [String: Any])
            }
        }
        let finished = try bodies("training_finished")
        #expect(finished.count == 2)
        #expect(finished.first?["run_id"] as? String == report["run_id"] as? String)
        #expect(finished.first?["model"] as? String == "fish-classifier" && finished.first?["version"] as? Int == 1)
        let refusals = try bodies("promotion_refused")
        #expect(refusals.count == (refused.status == 0 ? 0 : 1), "\(refused.stderr)")
        if refused.status != 0 { #expect(refusals.first?["to_version"] as? Int == 2) }
    }
}

/// An HTTP receiver on loopback (Python's http.server) that answers 200 and keeps what it got.
final class HookReceiver {
    struct Request: Decodable {
        let authorization: String?
        let body: String
    }

    private let process = Process()
    private let file: URL

    init(port: Int) throws {
        file = try Fixtures.temporaryDirectory().appendingPathComponent("received.jsonl")
        let script = """
            import http.server, json, sys
            class Receiver(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                    with open(sys.argv[2], "a") as out:
                        out.write(json.dumps({"authorization": self.headers.get("Authorization"), "body": body}) + "\\n")
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(b"ok")
                def log_message(self, *args):
                    pass
            http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
            """
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, "\(port)", file.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(20)
        while (try? LoopbackConnection(port: port)) == nil, ContinuousClock.now < deadline { usleep(20_000) }
    }

    /// The requests received so far, in order.
    func requests() throws -> [Request] {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { try JSONDecoder().decode(Request.self, from: Data($0.utf8)) }
    }

    /// Stops it with SIGKILL (a child started from a Dispatch thread may have SIGTERM blocked).
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
