import FishHTTPClient
import FishTestSupport
import Foundation
import Testing

/// Watching real `fishops serve` processes on loopback: `fishops servers` and the console's
/// `:serve` show their version and traffic, a stopped server removes its record, and one killed
/// with SIGKILL is marked gone.
@Suite(
    .enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"),
    .enabled(if: Fixtures.sharedAvailable, "needs ../shared"),
    .enabled(if: Fixtures.binary != nil, "needs the built fishops binary"))
struct ServingWatchTests {
    /// The first `count` photos of one species.
    static func photos(_ count: Int) throws -> [Data] {
        let folder = Fixtures.shared.appendingPathComponent("datasets/large-scale-fish/sea_bass")
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().prefix(count).map {
            try Data(contentsOf: folder.appendingPathComponent($0))
        }
    }

    /// POSTs each body to `/v1/classify` over libcurl; the statuses. It blocks: call it off the pool.
    static func post(_ bodies: [Data], at url: String) -> [Int] {
        bodies.map { body in
            do throws(HTTPClientError) {
                return try HTTPClient().send("POST", url + "/v1/classify", body: body, contentType: "application/octet-stream")
                    .status
            } catch {
                return error.statusCode ?? 0
            }
        }
    }

    /// `post` on a thread of its own.
    static func classify(_ bodies: [Data], at url: String) async -> [Int] {
        await offPool { post(bodies, at: url) }
    }

    static func servers(_ home: URL, _ arguments: String...) throws -> [[String: Any]] {
        let result = try FishOpsProcess.run(["servers", "--json"] + arguments, home: home)
        try #require(result.status == 0, "\(result.stderr)")
        return result.jsonLines
    }

    @Test func serversListsARunningServerWithItsTrafficAndMarksItGoneAfterKill9() async throws {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let server = try ServeProcess(home: home, arguments: ["--cache-entries", "0"])
        defer { server.stop() }
        let bodies = try Self.photos(6) + [Data("not an image".utf8)]
        let url = server.url
        // The requests and the listing on one thread: the last minute is wall-clock time, which a
        // cooperative pool kept busy by other tests could otherwise spend between the two.
        let (statuses, listing) = try await offPool { () throws -> ([Int], FishOpsProcess.Result) in
            (Self.post(bodies, at: url), try FishOpsProcess.run(["servers", "--json"], home: home))
        }
        #expect(statuses == [200, 200, 200, 200, 200, 200, 415])
        try #require(listing.status == 0, "\(listing.stderr)")
        let listed = listing.jsonLines
        try #require(listed.count == 1, "\(listed)")
        let entry = listed[0]
        let stats = entry["stats"] as? [String: Any] ?? [:]
        #expect(entry["url"] as? String == server.url && entry["state"] as? String == "alive")
        #expect((entry["record"] as? [String: Any])?["pid"] as? Int == server.pid)
        #expect(stats["version"] as? Int == 1 && stats["model"] as? String == "imagenet-lite0")
        let minute = stats["last_minute"] as? [String: Any] ?? [:]
        #expect(minute["requests"] as? Int == 7 && minute["answered"] as? Int == 6)
        #expect((minute["errors"] as? [[String: Any]])?.first?["kind"] as? String == "unsupported_image")
        let quarter = stats["last_quarter_hour"] as? [String: Any] ?? [:]
        #expect(quarter["requests"] as? Int == 7 && quarter["answered"] as? Int == 6)
        #expect((stats["recent"] as? [String: Any])?["answers"] as? Int == 6)

        let table = try FishOpsProcess.run(["servers"], home: home)
        #expect(
            table.stdout.contains(server.url) && table.stdout.contains("alive")
                && table.stdout.contains("imagenet-lite0@production"))

        server.kill()
        let gone = try Self.servers(home, "--no-poll")
        #expect(gone.first?["state"] as? String == "gone", "a server killed with SIGKILL leaves its record, shown as gone")
        let forget = try FishOpsProcess.run(["servers", "--forget", server.url], home: home)
        #expect(forget.status == 0, "\(forget.stderr)")
        #expect(try Self.servers(home, "--no-poll").isEmpty)
    }

    @Test func aStoppedServerRemovesItsRecord() async throws {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let server = try ServeProcess(home: home, arguments: [])
        #expect(try Self.servers(home, "--no-poll").count == 1)
        server.stop()
        #expect(try Self.servers(home, "--no-poll").isEmpty)
        let unknown = try FishOpsProcess.run(["servers", "--forget", server.url], home: home)
        #expect(unknown.status == 1 && unknown.stderr.contains("no server is recorded at \(server.url)"))
    }

    /// What varies between runs of the live screens besides the usual masks: the port (always five
    /// digits, from the ephemeral range), the pid, latencies, and the charts' and sparklines' shapes
    /// (which depend on where the requests fell in the 10-second steps).
    static let liveMasks: [(pattern: String, replacement: String)] = [
        (#"127\.0\.0\.1:\d{5}"#, "127.0.0.1:PPPPP"), (#"pid \d+ on [^│]*"#, "pid N on HOST "),
        (#"[ ▁▂▃▄▅▆▇█]{6} 0\.2  [ \d.]{5}"#, "<spark> 0.2  <p95>"), (#"p50/p95/p99 [\d./]+ ms"#, "p50/p95/p99 <ms>"),
        (#"\d{4}-…"#, "YYYY-…"), (#"(?m) +│$"#, " │"),
    ]

    /// The rows of the two charts, whose dots depend on where the requests fell in the steps.
    static func maskingCharts(_ screen: String) -> String {
        var inCharts = false
        return screen.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.contains("requests/s, 15 min") {
                inCharts = true
                return String(line)
            }
            if inCharts, line.hasPrefix("└") { inCharts = false }
            return inCharts ? "│<charts>│" : String(line)
        }.joined(separator: "\n")
    }

    /// Compares a tmux screen with `Golden/NAME.txt` beside this file.
    static func expectGolden(_ screen: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
        let trimmed = screen.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.replacingOccurrences(of: " +$", with: "", options: .regularExpression) }.joined(separator: "\n")
        let text = GoldenScreens.normalised(maskingCharts(trimmed), extra: liveMasks)
        if let mismatch = GoldenScreens.mismatch(text, named: name, in: folder) {
            Issue.record(Comment(rawValue: mismatch), sourceLocation: sourceLocation)
        }
    }

    @Test(.enabled(if: TmuxSession.tmux != nil, "needs tmux (Debian package; make test-deps)"))
    func consoleServeShowsTheRateAndVersionAndMarksAKilledServerGone() async throws {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let server = try ServeProcess(home: home, arguments: ["--cache-entries", "0"])
        defer { server.stop() }
        let address = String(server.url.dropFirst("http://".count))
        let binary = try #require(Fixtures.binary)
        let session = try TmuxSession(command: binary.path, environment: ["FISHOPS_HOME": home.path, "FISHOPS_USER": "operator"])
        defer { session.kill() }
        try session.waitFor("servers: 1 alive")
        try session.enter(":serve", expecting: address)
        try session.waitFor("alive")
        #expect(session.screen.contains("imagene~ v1"))
        let photos = try Self.photos(12)
        let url = server.url
        // The requests and the screens that count them on one thread: the last minute is
        // wall-clock time, which a cooperative pool kept busy by other tests could spend between them.
        let (statuses, serveScreen, serverScreen) = try await offPool { () throws -> ([Int], String, String) in
            let statuses = Self.post(photos, at: url)
            // 12 requests in the last minute: 0.2 a second.
            let serveScreen = try session.waitFor(" 0.2 ")
            try session.keys("Enter")
            try session.waitFor("60 s: 12 requests, 0.2/s")
            return (statuses, serveScreen, try session.waitFor("class mix, last 12"))
        }
        #expect(statuses.allSatisfy { $0 == 200 })
        Self.expectGolden(serveScreen, "serve-live")
        Self.expectGolden(serverScreen, "server-live")
        try session.keys("Escape")
        try session.waitFor("cache drift")
        server.kill()
        let screen = try session.waitFor("0 of 1 alive")
        #expect(screen.split(separator: "\n").contains { $0.contains(address) && $0.contains(" gone ") })
    }
}

/// The prediction log of a real server, read back with `fishops predictions`.
@Suite(
    .enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"),
    .enabled(if: Fixtures.sharedAvailable, "needs ../shared"),
    .enabled(if: Fixtures.binary != nil, "needs the built fishops binary"))
struct PredictionLogCommandTests {
    @Test func servedAnswersAreLoggedAndLowConfidenceImagesKept() async throws {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let server = try ServeProcess(home: home, arguments: ["--keep-images", "low-confidence"])
        let photos = try ServingWatchTests.photos(5)
        #expect(await ServingWatchTests.classify(photos + [photos[0]], at: server.url).allSatisfy { $0 == 200 })
        server.stop()

        let tail = try FishOpsProcess.run(["predictions", "tail", "-n", "3", "--json"], home: home)
        #expect(tail.status == 0, "\(tail.stderr)")
        let lines = tail.jsonLines
        #expect(lines.count == 3)
        #expect(
            lines.allSatisfy {
                $0["server"] as? String == server.url && $0["model"] as? String == "imagenet-lite0" && $0["version"] as? Int == 1
            })
        #expect(lines.last?["cached"] as? Bool == true, "the repeated photo was answered from the cache")
        #expect(lines.allSatisfy { ($0["top"] as? [[String: Any]])?.count == 3 && ($0["sha256"] as? String)?.count == 64 })
        // The logged hash is the image's sha256, as coreutils computes it.
        let first = try Fixtures.file(named: "first.jpg", contents: photos[0])
        let sum = Process()
        sum.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        sum.arguments = [first]
        let output = Pipe()
        sum.standardOutput = output
        try sum.run()
        let digest = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(64)
        sum.waitUntilExit()
        #expect(lines.last?["sha256"] as? String == String(digest), "the repeated first photo is the last answer")

        let export = try FishOpsProcess.run(["predictions", "export", "--since", "1h"], home: home)
        let rows = export.stdout.split(separator: "\n")
        #expect(
            export.status == 0 && rows.first == "at,server,sha256,model,version,top1,p1,top2,p2,top3,p3,latency_ms,cached,image")
        #expect(rows.count == 7, "a header and six answers")
        // Every kept image is one of the posted photos, named by its hash, and the log points at it.
        let all = try FishOpsProcess.run(["predictions", "export", "--json"], home: home).jsonLines
        for line in all {
            guard let image = line["image"] as? String else {
                #expect(((line["top"] as? [[String: Any]])?.first?["probability"] as? Double ?? 0) >= 0.5)
                continue
            }
            let bytes = try Data(contentsOf: home.appendingPathComponent("predictions").appendingPathComponent(image))
            #expect(photos.contains(bytes))
        }
        let future = try FishOpsProcess.run(["predictions", "tail", "--since", "2099-01-01"], home: home)
        #expect(future.status == 0 && future.stdout.contains("No answers logged since 2099-01-01"))
        let bad = try FishOpsProcess.run(["predictions", "tail", "--since", "soon"], home: home)
        #expect(bad.status == 1 && bad.stderr.contains("--since \"soon\""))
    }
}

/// The served drift window on real photos: a model trained on large-scale-fish, served, sees
/// underwater video as drift.
@Suite(
    .enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"),
    .enabled(if: Fixtures.sharedAvailable, "needs ../shared"),
    .enabled(if: Fixtures.binary != nil, "needs the built fishops binary"))
struct ServedDriftTests {
    /// The `drift.check` object of a `/v1/stats` body (empty when there is none yet).
    static func driftCheck(_ stats: Data) -> [String: Any] {
        let object = (try? JSONSerialization.jsonObject(with: stats)) as? [String: Any]
        return (object?["drift"] as? [String: Any])?["check"] as? [String: Any] ?? [:]
    }

    @Test func underwaterVideoPostedToTheServerIsReportedAsDrift() async throws {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let data = Fixtures.shared.appendingPathComponent("datasets/large-scale-fish")
        let train = try FishOpsProcess.run(["train", "--data", data.path, "--model", "fish", "--seed", "0"], home: home)
        try #require(train.status == 0, "\(train.stderr)")
        let server = try ServeProcess(
            home: home,
            arguments: [
                "--model", "fish", "--alias", "staging", "--cache-entries", "0",
                "--drift-check-seconds", "0.2",
            ])
        defer { server.stop() }
        let before = try JSONSerialization.jsonObject(with: Data(try await server.get("/v1/stats").utf8)) as? [String: Any]
        #expect((before?["drift"] as? [String: Any])?["waiting_for"] as? Int == 30, "no check before 30 uncached answers")

        let video = Fixtures.shared.appendingPathComponent("datasets/fish4knowledge")
        let files = try FileManager.default.subpathsOfDirectory(atPath: video.path).filter {
            $0.hasSuffix(".png") || $0.hasSuffix(".jpg")
        }.sorted()
        var random = SystemRandomNumberGenerator()
        let photos = try files.shuffled(using: &random).prefix(60).map { try Data(contentsOf: video.appendingPathComponent($0)) }
        #expect(await ServingWatchTests.classify(photos, at: server.url).allSatisfy { $0 == 200 })

        // Polled on a thread of its own, so a busy cooperative pool cannot spend the 30 seconds.
        let url = server.url
        let checked = await offPool { () -> Data in
            var body = Data()
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                body = (try? HTTPClient().get(url + "/v1/stats"))?.body ?? Data()
                if Self.driftCheck(body)["images"] as? Int == 60 { break }
                usleep(200_000)
            }
            return body
        }
        let drift = Self.driftCheck(checked)
        #expect(drift["images"] as? Int == 60 && drift["verdict"] as? String == "drift", "\(drift)")
        let metrics = try await server.get("/metrics")
        #expect(metrics.contains("fishops_drift_verdict 2.0"))
        let listed = try ServingWatchTests.servers(home).first?["stats"] as? [String: Any]
        #expect(((listed?["drift"] as? [String: Any])?["check"] as? [String: Any])?["verdict"] as? String == "drift")

        // The same check offline, from the command line.
        let offline = try FishOpsProcess.run(["drift", "--model", "fish:1", "--json", video.path], home: home)
        #expect(offline.status == 1, "drift exits 1")
        let report = offline.jsonLines.first
        #expect((report?["check"] as? [String: Any])?["verdict"] as? String == "drift")
        #expect((report?["class_mix"] as? [[String: Any]])?.count == 9)
        let base = try FishOpsProcess.run(["drift", "--model", "imagenet-lite0", video.path], home: home)
        #expect(base.status == 1 && base.stderr.contains("has no drift reference"))
        let badVersion = try FishOpsProcess.run(["drift", "--model", "fish:x", video.path], home: home)
        #expect(badVersion.status == 64 && badVersion.stderr.contains("the version after ':' must be a positive number"))
    }
}
