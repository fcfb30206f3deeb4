import FishHTTPClient
import FishTestSupport
import Foundation
import Synchronization
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `fishops serve` as a real process on loopback: following a promotion under a stream of
/// requests, graceful SIGTERM, and the upload page in headless Chromium.
@Suite(
    .enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"),
    .enabled(if: Fixtures.sharedAvailable, "needs ../shared"),
    .enabled(if: Fixtures.binary != nil, "needs the built fishops binary"))
struct ServeCommandTests {
    /// A home holding imagenet-lite0 v1 (production) and v2 (the same weights imported again from v1's package).
    func homeWithTwoVersions() throws -> URL {
        let home = try Fixtures.temporaryDirectory()
        let v2Weights = home.appendingPathComponent("models/imagenet-lite0/1/weights.safetensors").path
        for arguments in [
            ["weights", "import", Fixtures.weights.path], ["weights", "import", v2Weights],
            ["models", "promote", "imagenet-lite0", "1", "--reason", "first"],
        ] {
            let result = try FishOpsProcess.run(arguments, home: home)
            try #require(result.status == 0, "\(arguments): \(result.stderr)")
        }
        return home
    }

    var images: [Data] {
        get throws {
            let folder = Fixtures.shared.appendingPathComponent("datasets/large-scale-fish/sea_bass")
            return try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().prefix(24)
                .map { try Data(contentsOf: folder.appendingPathComponent($0)) }
        }
    }

    @Test func followsAPromotionWithoutAFailedRequest() async throws {
        let home = try homeWithTwoVersions()
        let server = try ServeProcess(home: home, arguments: ["--reload-seconds", "0.2", "--cache-entries", "0"])
        defer { server.stop() }
        let images = try images
        let promoted = Flag()
        // Four clients stream requests; the alias moves once they are under way.
        let versions = try await withThrowingTaskGroup(of: [Int].self) { group in
            for client in 0..<4 {
                group.addTask {
                    var seen: [Int] = []
                    var afterSwitch = 0
                    while afterSwitch < 5, seen.count < 2000 {
                        let (status, body) = try await server.post(
                            "/v1/classify", body: images[(client * 7 + seen.count) % images.count])
                        #expect(
                            status == 200, "request \(seen.count) of client \(client): \(String(decoding: body, as: UTF8.self))")
                        guard status == 200 else { return seen }
                        let version =
                            ((try JSONSerialization.jsonObject(with: body) as? [String: Any])?["model"] as? [String: Any])?[
                                "version"] as? Int
                        seen.append(version ?? 0)
                        if promoted.isSet, version == 2 { afterSwitch += 1 }
                    }
                    return seen
                }
            }
            try await Task.sleep(for: .seconds(1))
            let promotion = try FishOpsProcess.run(
                ["models", "promote", "imagenet-lite0", "2", "--reason", "switch under load", "--force"],
                home: home)
            #expect(promotion.status == 0, "\(promotion.stderr)")
            promoted.set()
            return try await group.reduce(into: [[Int]]()) { $0.append($1) }
        }
        for seen in versions {
            #expect(seen.first == 1 && seen.last == 2, "each client starts on v1 and ends on v2")
            #expect(seen == seen.sorted(), "no client goes back to v1 after seeing v2")
        }
        #expect(server.log.contains("now serving imagenet-lite0 v2"))
    }

    @Test func sigtermFinishesTheRequestInFlight() async throws {
        let home = try homeWithTwoVersions()
        // The images wait 5 s for a fuller batch: long enough to signal while they are in flight,
        // even when a busy test process polls slowly.
        let server = try ServeProcess(home: home, arguments: ["--cache-entries", "0", "--batch-wait-ms", "5000"])
        let images = try images
        var form = Data()
        for (index, image) in images.enumerated() {
            form.append(
                Data("--b0undary\r\nContent-Disposition: form-data; name=\"images\"; filename=\"\(index).jpg\"\r\n\r\n".utf8))
            form.append(image)
            form.append(Data("\r\n".utf8))
        }
        form.append(Data("--b0undary--\r\n".utf8))
        let url = server.url
        let body = form
        // The request, the polling and the signal run on threads of their own (libcurl), so the
        // cooperative pool that other tests keep busy cannot come between them.
        let (queued, answer) = await offPool { () -> (Bool, Result<HTTPReply, HTTPClientError>) in
            let answer = Spawned {
                Result { () throws(HTTPClientError) in
                    try HTTPClient().send(
                        "POST", url + "/v1/classify/batch", body: body, contentType: "multipart/form-data; boundary=b0undary")
                }
            }
            // Signal once the server is handling the request: its first images wait in the queue while the
            // rest may still be decoding (a loaded machine decodes slowly, so only the start is awaited).
            var queued = false
            let deadline = ContinuousClock.now + .seconds(60)
            while !queued, ContinuousClock.now < deadline {
                let metrics = (try? HTTPClient().get(url + "/metrics")).map { String(decoding: $0.body, as: UTF8.self) } ?? ""
                queued = metrics.split(separator: "\n").contains {
                    $0.hasPrefix("fishops_queue_depth ") && (Double($0.split(separator: " ").last ?? "") ?? 0) > 0
                }
                if !queued { usleep(10_000) }
            }
            server.terminate()
            return (queued, answer.value)
        }
        #expect(queued, "the request was in the queue before the signal (\(server.url)); the server logged:\n\(server.log)")
        let reply = try answer.get()
        #expect(reply.status == 200)
        let results = (try JSONSerialization.jsonObject(with: reply.body) as? [String: Any])?["results"] as? [[String: Any]] ?? []
        #expect(results.count == images.count && results.allSatisfy { $0["top"] != nil })
        #expect(server.waitForExit() == 0)
        await #expect(throws: (any Error).self) { _ = try await server.get("/healthz") }
    }

    /// Long drain and idle limits: the test may be held up while other tests keep the pool busy.
    static let patientDrain = ["--drain-seconds", "600", "--idle-timeout-seconds", "600"]

    @Test func sigtermStillAnswersARequestOnAKeptAliveConnection() async throws {
        let home = try homeWithTwoVersions()
        let server = try ServeProcess(home: home, arguments: Self.patientDrain)
        defer { server.stop() }
        let image = Array(try images[0])
        let connection = try LoopbackConnection(port: server.port)
        let first = try #require(await offPool { connection.exchange(method: "POST", path: "/v1/classify", body: image) })
        #expect(first.status == 200 && first.headers["connection"] != "close")
        server.terminate()
        try await Task.sleep(for: .milliseconds(300))
        // The server still accepts connections while it drains.
        let fresh = try LoopbackConnection(port: server.port)
        // A client sending on its idle kept-alive connection just after the signal gets an answer
        // that tells it to close, not a reset.
        let second = await offPool { connection.exchange(method: "POST", path: "/v1/classify", body: image) }
        #expect(second?.status == 200, "the request sent after SIGTERM on a kept-alive connection was answered")
        #expect(second?.headers["connection"] == "close")
        #expect(
            await offPool { connection.receive(timeout: .seconds(5)).closed }, "the server closed that connection after answering"
        )
        // Readiness fails while the server drains, so a load balancer sends new requests elsewhere.
        let ready = await offPool { fresh.exchange(method: "GET", path: "/readyz") }
        #expect(ready?.status == 503 && ready?.headers["connection"] == "close")
        #expect(ready.map { String(decoding: $0.body, as: UTF8.self).contains("draining") } == true)
        #expect(server.waitForExit() == 0)
        #expect(server.log.contains("draining"))
    }

    @Test func drainWaitsForAnOpenConnectionUntilASecondSIGTERM() async throws {
        let home = try homeWithTwoVersions()
        let server = try ServeProcess(home: home, arguments: Self.patientDrain)
        defer { server.stop() }
        let idle = try LoopbackConnection(port: server.port)
        defer { withExtendedLifetime(idle) {} }  // open until the end: its closing would end the drain
        #expect(await offPool { idle.exchange(method: "GET", path: "/healthz") }?.status == 200)
        server.terminate()
        try await Task.sleep(for: .seconds(1))
        #expect(server.isRunning, "the drain waits while a kept-alive connection is open")
        server.terminate()
        let start = ContinuousClock.now
        #expect(server.waitForExit() == 0)
        #expect(ContinuousClock.now - start < .seconds(10), "a second SIGTERM ends the drain")
        #expect(server.log.contains("second SIGTERM"))
    }

    @Test func sigtermUnderKeptAliveLoadResetsNoRequest() async throws {
        let home = try homeWithTwoVersions()
        let server = try ServeProcess(home: home, arguments: [])
        defer { server.stop() }
        let images = try images.map { Array($0) }
        let answered = Atomic<Int>(0)
        let signalled = Flag()
        // Eight clients send back to back on kept-alive connections (cached answers after the first
        // round, so each connection turns busy and idle thousands of times a second) until an answer
        // says `Connection: close`; the signal comes while they are at it. Clients and signal run on
        // threads of their own, so a busy cooperative pool cannot delay one behind the other.
        let results = await offPool { () -> [String] in
            let clients = (0..<8).map { client in
                Spawned { () -> String in
                    let connection: LoopbackConnection
                    do { connection = try LoopbackConnection(port: server.port) } catch {
                        return
                            "could not connect to \(server.url): \(error) (server running: \(server.isRunning), signalled: \(signalled.isSet))"
                    }
                    for request in 0..<1_000_000 {
                        guard
                            let response = connection.exchange(
                                method: "POST", path: "/v1/classify", body: images[(client + request) % images.count])
                        else {
                            return "reset after \(request) answers (signalled: \(signalled.isSet))"
                        }
                        guard response.status == 200 else { return "status \(response.status) after \(request) answers" }
                        answered.add(1, ordering: .relaxed)
                        if response.headers["connection"] == "close" {
                            return signalled.isSet && connection.receive(timeout: .seconds(5)).closed
                                ? "closed" : "closed before the signal"
                        }
                    }
                    return "never told to close"
                }
            }
            let deadline = ContinuousClock.now + .seconds(60)
            while answered.load(ordering: .relaxed) < 400, ContinuousClock.now < deadline { usleep(5_000) }
            signalled.set()
            server.terminate()
            return clients.map(\.value)
        }
        #expect(results.allSatisfy { $0 == "closed" }, "\(results)")
        #expect(server.waitForExit() == 0)
    }

    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
                && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver"),
            "needs chromium and chromium-driver (make test-deps)"),
        .enabled(if: Fixtures.pythonHas("selenium"), "needs Selenium in the test Python (make test-deps)"))
    func uploadPageShowsTheLabelInChromium() throws {
        let home = try homeWithTwoVersions()
        let server = try ServeProcess(home: home, arguments: [])
        defer { server.stop() }
        let output = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Fixtures.python))
        process.arguments = [
            Fixtures.root.appendingPathComponent("Tests/web/upload_page_test.py").path, server.url + "/",
            Fixtures.shared.appendingPathComponent("reference/images/coffee.png").path, "espresso",
        ]
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("labels: ['espresso'"))
    }
}

/// A flag set once by one task and read by others.
final class Flag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}

/// Bytes appended by one thread and read by others.
final class CollectedBytes: Sendable {
    private let bytes = Mutex(Data())
    var data: Data { bytes.withLock { $0 } }
    func append(_ chunk: Data) { bytes.withLock { $0.append(chunk) } }
}

/// `fishops serve --port 0` as a child process, with a small HTTP client for it.
/// (`Process` is only terminated and waited for here, which it allows from any thread.)
final class ServeProcess: @unchecked Sendable {
    let url: String
    private let process: Process
    private let errors = CollectedBytes()

    init(home: URL, arguments: [String], memoryLimitKB: Int? = nil, environment: [String: String] = [:]) throws {
        let output = Pipe()
        let errorPipe = Pipe()
        process = try FishOpsProcess.start(
            ["serve", "--port", "0"] + arguments, home: home, output: output, errors: errorPipe,
            memoryLimitKB: memoryLimitKB, environment: environment)
        let errors = self.errors
        errorPipe.fileHandleForReading.readabilityHandler = { errors.append($0.availableData) }
        var seen = Data()
        while !seen.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else {
                throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "serve ended early"])
            }
            seen.append(chunk)
        }
        let line = String(decoding: seen, as: UTF8.self)
        url = String(line[try #require(line.range(of: "http://")).lowerBound...].prefix { !$0.isWhitespace })
        try #require(port > 0, "serve printed \(line.debugDescription)")
    }

    /// The port it listens on.
    var port: Int { Int(url.split(separator: ":").last ?? "") ?? 0 }

    /// What the server logged so far.
    var log: String { String(decoding: errors.data, as: UTF8.self) }

    /// POSTs `body` to `path`; the status and body of the answer.
    func post(_ path: String, body: Data, contentType: String = "application/octet-stream") async throws -> (Int, Data) {
        var request = URLRequest(url: try #require(URL(string: url + path)))
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    /// The body of `GET path`.
    func get(_ path: String) async throws -> String {
        let (data, _) = try await URLSession.shared.data(from: try #require(URL(string: url + path)))
        return String(decoding: data, as: UTF8.self)
    }

    func terminate() { process.terminate() }

    /// Kills the server with SIGKILL (it cannot clean up) and waits for it.
    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    var pid: Int { Int(process.processIdentifier) }

    var isRunning: Bool { process.isRunning }

    func waitForExit() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Stops it with SIGINT: at once, after the requests in flight (SIGTERM first drains the connections).
    func stop() {
        if process.isRunning { process.interrupt() }
        process.waitUntilExit()
    }
}
