import FishHTTPClient
import FishTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The libcurl client against real servers on loopback: `fishops serve` (JSON, uploads, error
/// replies, a slow answer, tokens) and Python's `http.server` (a large download), plus a port
/// nobody listens on.
@Suite(
    .enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"),
    .enabled(if: Fixtures.sharedAvailable, "needs ../shared"),
    .enabled(if: Fixtures.binary != nil, "needs the built fishops binary"))
struct HTTPClientTests {
    var photo: URL {
        Fixtures.shared.appendingPathComponent("datasets/large-scale-fish/sea_bass")
            .appendingPathComponent(
                (try? FileManager.default.contentsOfDirectory(
                    atPath: Fixtures.shared
                        .appendingPathComponent("datasets/large-scale-fish/sea_bass").path
                ).sorted().first) ?? "")
    }

    struct Models: Decodable {
        let name: String
        let version: Int
    }
    struct Classification: Decodable {
        struct Guess: Decodable { let label: String }
        let top: [Guess]
    }

    @Test func jsonRepliesAndUploadsFromMemoryAndFromFiles() async throws {
        let server = try ServeProcess(home: try ClassifyCommandTests.homeWithBaseModel(), arguments: [])
        defer { server.stop() }
        let client = HTTPClient()
        let models = try await offPool { try client.get(server.url + "/v1/models").json(Models.self) }
        #expect(models.name == "imagenet-lite0" && models.version == 1)
        let photo = photo
        let streamed = try await offPool {
            try client.upload(photo, to: server.url + "/v1/classify", method: "POST").json(Classification.self)
        }
        let inMemory = try await offPool {
            try client.send("POST", server.url + "/v1/classify", body: try Data(contentsOf: photo), contentType: "image/jpeg")
                .json(Classification.self)
        }
        #expect(!streamed.top.isEmpty && streamed.top.map(\.label) == inMemory.top.map(\.label))
    }

    @Test func failuresNameTheRequestAndWhatWentWrong() async throws {
        let server = try ServeProcess(home: try ClassifyCommandTests.homeWithBaseModel(), arguments: [])
        defer { server.stop() }
        let client = HTTPClient()
        let missing = await offPool { Self.failure { try client.get(server.url + "/nope") } }
        #expect(missing?.statusCode == 404)
        #expect(missing?.description.hasPrefix("GET \(server.url)/nope: HTTP 404") == true, "\(String(describing: missing))")
        let junk = await offPool {
            Self.failure {
                try client.send("POST", server.url + "/v1/classify", body: Data("not an image".utf8), contentType: "image/jpeg")
            }
        }
        #expect(junk?.statusCode == 415 && junk?.description.contains("unsupported_image") == true, "\(String(describing: junk))")

        let closedPort = try freeLoopbackPort()
        let refused = await offPool { Self.failure { try client.get("http://127.0.0.1:\(closedPort)/v1/models") } }
        guard case .unreachable = refused else {
            Issue.record("expected unreachable, got \(String(describing: refused))")
            return
        }
        #expect(refused?.description.contains("127.0.0.1:\(closedPort)") == true)

        #expect(Self.failure { try client.get("ftp://127.0.0.1/x") } == .badURL("ftp://127.0.0.1/x"))
        let noFile = await offPool {
            Self.failure { try client.upload(URL(fileURLWithPath: "/nonexistent/photo.jpg"), to: server.url + "/v1/classify") }
        }
        guard case .file = noFile else {
            Issue.record("expected a file error, got \(String(describing: noFile))")
            return
        }
        #expect(noFile?.description.contains("/nonexistent/photo.jpg") == true)
        let secret = "http://user:s3cret@127.0.0.1:\(closedPort)/"
        #expect(
            await offPool { Self.failure { try client.get(secret) } }?.description.contains("s3cret") == false,
            "credentials in a URL are not repeated")
    }

    @Test func slowAnswersHitTheTimeoutsAndTheServerCarriesOn() async throws {
        // Each image waits three seconds for a fuller batch before its answer starts.
        let server = try ServeProcess(
            home: try ClassifyCommandTests.homeWithBaseModel(), arguments: ["--batch-wait-ms", "3000", "--cache-entries", "0"])
        defer { server.stop() }
        let (photo, image) = (photo, try Data(contentsOf: photo))
        var impatient = HTTPClient()
        impatient.timeout = .milliseconds(500)
        impatient.stallTimeout = .seconds(1)
        let client = impatient
        // Timed on the client's own thread: a busy test process may resume this task late.
        let (inMemory, waited) = await offPool {
            let start = ContinuousClock.now
            return (
                Self.failure { try client.send("POST", server.url + "/v1/classify", body: image, contentType: "image/jpeg") },
                ContinuousClock.now - start
            )
        }
        #expect(waited < .milliseconds(2500))
        guard case .timedOut = inMemory else {
            Issue.record("expected the overall timeout, got \(String(describing: inMemory))")
            return
        }
        // Transfers of files have no overall limit: a streamed upload waits for its slow answer...
        let streamed = try await offPool { try client.upload(photo, to: server.url + "/v1/classify", method: "POST") }
        #expect(streamed.status == 200)
        // ...but not for a server that sends nothing at all (it accepted the connection and went silent).
        let silent = try SilentListener()
        let target = try Fixtures.temporaryDirectory().appendingPathComponent("never.bin")
        let stalled = await offPool { Self.failure { try client.download("http://127.0.0.1:\(silent.port)/file", to: target) } }
        guard case .timedOut = stalled else {
            Issue.record("expected the stall timeout, got \(String(describing: stalled))")
            return
        }
        #expect(!FileManager.default.fileExists(atPath: target.path))
        #expect(try await offPool { try client.get(server.url + "/healthz") }.status == 200)
    }

    @Test func tokensAreSentAndNeverRepeated() async throws {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let token = "fish-token-\(UUID().uuidString)"
        let tokenFile = home.appendingPathComponent("token")
        try Data(token.utf8).write(to: tokenFile)
        let server = try ServeProcess(home: home, arguments: ["--token-file", tokenFile.path])
        defer { server.stop() }
        let anonymous = await offPool { Self.failure { try HTTPClient().get(server.url + "/v1/models") } }
        #expect(anonymous?.statusCode == 401)
        let wrong = await offPool {
            Self.failure { try HTTPClient(credentials: .bearer("not-\(token)")).get(server.url + "/v1/models") }
        }
        #expect(wrong?.statusCode == 401 && wrong?.description.contains(token) == false)
        #expect(try await offPool { try HTTPClient(credentials: .bearer(token)).get(server.url + "/v1/models") }.status == 200)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "needs python3"))
    func largeDownloadsStreamToAFileThatAppearsWhole() async throws {
        let folder = try Fixtures.temporaryDirectory()
        // 80 MiB that no compression or caching could shorten (an xorshift stream: fast, unlike the system's random source).
        var large = Data(count: 80 << 20)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        large.withUnsafeMutableBytes { bytes in
            for index in 0..<bytes.count / 8 {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                bytes.storeBytes(of: state, toByteOffset: index * 8, as: UInt64.self)
            }
        }
        try large.write(to: folder.appendingPathComponent("large.bin"))
        let server = try PythonFileServer(folder: folder)
        defer { server.stop() }
        let client = HTTPClient()
        let target = try Fixtures.temporaryDirectory().appendingPathComponent("copy.bin")
        let bytes = try await offPool { try client.download(server.url + "/large.bin", to: target) }
        #expect(bytes == large.count)
        #expect(try Data(contentsOf: target) == large)

        var capped = client
        capped.maxReplyBytes = 1 << 20
        let small = capped
        #expect(
            await offPool { Self.failure { try small.get(server.url + "/large.bin") } }
                == .tooLarge(method: "GET", url: server.url + "/large.bin", limit: 1 << 20))
        let gone = target.deletingLastPathComponent().appendingPathComponent("gone.bin")
        #expect(await offPool { Self.failure { try client.download(server.url + "/missing.bin", to: gone) } }?.statusCode == 404)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: target.deletingLastPathComponent().path)
        #expect(leftovers == ["copy.bin"], "a failed download leaves no file, not even a partial one")
    }

    /// The error `body` throws, or nil when it succeeds.
    static func failure<T>(_ body: () throws -> T) -> HTTPClientError? {
        do {
            _ = try body()
            return nil
        } catch let error as HTTPClientError {
            return error
        } catch {
            Issue.record("not an HTTPClientError: \(error)")
            return nil
        }
    }
}

/// `python3 -m http.server` on a free loopback port, serving `folder`.
final class PythonFileServer: @unchecked Sendable {
    let url: String
    private let process = Process()

    init(folder: URL) throws {
        let port = try freeLoopbackPort()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-m", "http.server", "\(port)", "--bind", "127.0.0.1", "--directory", folder.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        url = "http://127.0.0.1:\(port)"
        let deadline = ContinuousClock.now + .seconds(20)
        while (try? LoopbackConnection(port: port)) == nil, ContinuousClock.now < deadline { usleep(20_000) }
    }

    /// Stops it with SIGKILL: a child started from a Dispatch thread inherits a mask that blocks SIGTERM.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
