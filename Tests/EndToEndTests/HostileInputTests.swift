import FishTestSupport
import Foundation
import Testing

/// Hostile but fair input against real `fishops` processes: each case once took FishOps down,
/// stalled it, or lost data (see docs/security.md).
@Suite(
    .enabled(if: Fixtures.binary != nil, "needs the fishops binary (swift build)"),
    .enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"))
struct HostileInputTests {
    /// 2 GB of address space: a 1x150000 PNG once made the server allocate 29 GB and abort.
    static let memoryLimitKB = 2_000_000

    /// A 1x`height` or `width`x1 grey PNG: a few hundred bytes.
    static func line(width: Int, height: Int) throws -> Data {
        try TestImages.png([UInt8](repeating: 128, count: width * height), width: width, height: height, colorType: .grey)
    }

    static func photo() throws -> Data {
        try TestImages.png(TestImages.gradient(width: 300, height: 200), width: 300, height: 200, colorType: .rgb)
    }

    static func errorCode(_ body: Data) -> String? {
        ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]).flatMap {
            ($0["error"] as? [String: Any])?["code"] as? String
        }
    }

    /// Each degenerate image is refused within a second (or, on a machine busy with other tests,
    /// within three times what an ordinary photo took just before), and the server lives on.
    @Test func degenerateImagesGetAQuickErrorAndTheServerKeepsServing() async throws {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let server = try ServeProcess(home: home, arguments: [], memoryLimitKB: Self.memoryLimitKB)
        defer { server.stop() }
        for (width, height) in [(1, 150_000), (20_000, 1)] {
            let photoStart = ContinuousClock.now
            let (photoStatus, _) = try await server.post("/v1/classify", body: try Self.photo())
            let photoTime = ContinuousClock.now - photoStart
            #expect(photoStatus == 200)
            let image = try Self.line(width: width, height: height)
            #expect(image.count < 1000, "a \(width)x\(height) PNG is \(image.count) bytes")
            let start = ContinuousClock.now
            let (status, body) = try await server.post("/v1/classify", body: image)
            let time = ContinuousClock.now - start
            #expect(time < max(.seconds(1), photoTime * 3), "\(width)x\(height): \(time), an ordinary photo \(photoTime)")
            #expect(status == 422 && Self.errorCode(body) == "bad_shape", "\(String(decoding: body, as: UTF8.self))")
        }
        let (status, body) = try await server.post("/v1/classify", body: try Self.photo())
        #expect(status == 200, "\(String(decoding: body, as: UTF8.self))")
    }

    @Test func classifyNamesTheDegenerateFilesAndClassifiesTheRest() throws {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let folder = try Fixtures.temporaryDirectory()
        try Self.line(width: 1, height: 150_000).write(to: folder.appendingPathComponent("tall.png"))
        try Self.line(width: 20_000, height: 1).write(to: folder.appendingPathComponent("wide.png"))
        try Self.photo().write(to: folder.appendingPathComponent("photo.png"))
        let run = try FishOpsProcess.run(["classify", folder.path], home: home, memoryLimitKB: Self.memoryLimitKB)
        #expect(run.status == 1)
        #expect(run.stdout.contains("photo.png"))
        #expect(run.stderr.contains("2 of 3 files failed"), "\(run.stderr)")
        #expect(run.stderr.contains("tall.png: image is 1x150000") && run.stderr.contains("wide.png: image is 20000x1"))
    }

    @Test func emptyFoldersAndSymlinkLoopsAreNamed() throws {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let empty = try Fixtures.temporaryDirectory()
        let loop = try Fixtures.temporaryDirectory().appendingPathComponent("loop.jpg")
        try FileManager.default.createSymbolicLink(atPath: loop.path, withDestinationPath: loop.path)
        let run = try FishOpsProcess.run(["classify", empty.path, loop.path], home: home)
        #expect(run.status == 1)
        #expect(run.stderr.contains("\(empty.path): no .jpg, .jpeg or .png files in this folder"), "\(run.stderr)")
        #expect(run.stderr.contains("\(loop.path): too many levels of symbolic links"), "\(run.stderr)")
    }

    /// Uploads that trickle in, and uploads that take long to decode, must not slow the routes a
    /// load balancer polls (four small PNGs that were slow to decode once held /healthz for 10 s).
    @Test func healthStaysFastDuringSlowUploads() async throws {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let server = try ServeProcess(home: home, arguments: [])
        defer { server.stop() }
        let uploads = try (0..<8).map { _ in try LoopbackConnection(port: server.port) }
        for upload in uploads {
            #expect(upload.send("POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"))
        }
        let trickle = Task.detached {
            while !Task.isCancelled {
                for upload in uploads { upload.send(String(repeating: "x", count: 10)) }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        defer { trickle.cancel() }
        // 16 megapixels of one grey: a small file that takes a while to decode.
        let heavy = try TestImages.png([UInt8](repeating: 90, count: 4000 * 4000), width: 4000, height: 4000, colorType: .grey)
        // Stopped by a flag, not by cancelling: cancelling a task inside URLSession's async API can
        // deadlock swift-corelibs-foundation (its cancel and its completion wait on each other).
        let stop = Flag()
        let decoders = (0..<4).map { index in
            Task.detached {
                var answered = 0
                while !stop.isSet {
                    var unique = heavy
                    unique.append(contentsOf: Array("\(index)-\(answered)".utf8))  // after IEND: a new hash, the same pixels
                    guard let (status, _) = try? await server.post("/v1/classify", body: unique), status == 200 else { break }
                    answered += 1
                }
                return answered
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        var latencies: [Duration] = []
        for _ in 0..<200 {
            let start = ContinuousClock.now
            let connection = try LoopbackConnection(port: server.port)
            connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            // A few milliseconds: not worth a thread hop in the measurement.
            let (text, _) = connection.receive(timeout: .seconds(5))
            latencies.append(ContinuousClock.now - start)
            #expect(text.hasPrefix("HTTP/1.1 200"))
            try await Task.sleep(for: .milliseconds(5))
        }
        stop.set()
        var decoded = 0
        for decoder in decoders { decoded += await decoder.value }
        #expect(decoded >= 1, "the heavy uploads were being decoded meanwhile (\(decoded) answered)")
        latencies.sort()
        let p99 = latencies[latencies.count * 99 / 100 - 1]
        #expect(p99 < .milliseconds(50), "healthz p99 \(p99) during 8 trickling uploads and 4 heavy ones")
    }

    @Test func slowIdleAndHugeMultipartRequestsAreCut() async throws {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let server = try ServeProcess(home: home, arguments: ["--idle-timeout-seconds", "1", "--body-timeout-seconds", "1"])
        defer { server.stop() }
        let idle = try LoopbackConnection(port: server.port)
        #expect(await offPool { idle.receive(timeout: .seconds(4)).closed }, "an idle connection is closed")
        let slowHeader = try LoopbackConnection(port: server.port)
        slowHeader.send("GET /healthz HTTP/1.1\r\nHo")
        #expect(await offPool { slowHeader.receive(timeout: .seconds(4)).closed }, "a request head that never ends is cut")

        let slowBody = try LoopbackConnection(port: server.port)
        slowBody.send("POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
        // One byte every 100 ms, on a thread of its own so the pace holds however busy the test process is.
        let answer = await offPool { () -> String in
            var answer = ""
            for _ in 0..<40 where answer.isEmpty {
                slowBody.send("x")
                answer = slowBody.receive(timeout: .milliseconds(100)).text
            }
            return answer
        }
        #expect(answer.hasPrefix("HTTP/1.1 408") && answer.contains("body_timeout"), "\(answer)")

        var parts = Data()
        for _ in 0..<200_000 { parts.append(Data("--B\r\n\r\n\r\n".utf8)) }
        parts.append(Data("--B--\r\n".utf8))
        let (status, body) = try await server.post(
            "/v1/classify/batch", body: parts, contentType: "multipart/form-data; boundary=B")
        #expect(status == 413 && Self.errorCode(body) == "too_many_parts")
    }

    /// curl sends `Expect: 100-continue` with bodies over 1 MB and waited a second for an answer.
    @Test func expectContinueIsAnsweredAtOnce() async throws {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let server = try ServeProcess(home: home, arguments: [])
        defer { server.stop() }
        let connection = try LoopbackConnection(port: server.port)
        connection.send("POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\nExpect: 100-continue\r\n\r\n")
        let (text, _) = await offPool { connection.receive(timeout: .milliseconds(500)) }
        #expect(text.hasPrefix("HTTP/1.1 100 Continue"), "\(text)")
    }

    /// The bytes of `weights.safetensors` with the first float of `tensor` set to NaN.
    static func withNaN(_ file: URL, tensor: String) throws -> Data {
        var data = try Data(contentsOf: file)
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try #require(
            try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as? [String: Any])
        let offsets = try #require((header[tensor] as? [String: Any])?["data_offsets"] as? [Int])
        let start = 8 + headerLength + offsets[0]
        data.replaceSubrange(start..<(start + 4), with: withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { Data($0) })
        return data
    }

    @Test func nonFiniteWeightsAreRefusedAtImportAndAtLoad() throws {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let package = home.appendingPathComponent("models/imagenet-lite0/1")
        let broken = try Self.withNaN(package.appendingPathComponent("weights.safetensors"), tensor: "_fc.weight")
        let file = try Fixtures.file(named: "nan.safetensors", contents: broken)
        let imported = try FishOpsProcess.run(["weights", "import", file], home: home)
        #expect(imported.status != 0)
        #expect(imported.stderr.contains("_fc.weight holds NaN or infinite values"), "\(imported.stderr)")
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent("models/imagenet-lite0/2").path))

        // A package damaged in place (its sha256 updated to match) fails loudly, not with "-nan%".
        try broken.write(to: package.appendingPathComponent("weights.safetensors"))
        let metadataFile = package.appendingPathComponent("model.json")
        var metadata = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: metadataFile)) as? [String: Any])
        metadata["weights_sha256"] = try Self.sha256(of: package.appendingPathComponent("weights.safetensors"))
        try JSONSerialization.data(withJSONObject: metadata).write(to: metadataFile)
        let photo = try Fixtures.file(named: "photo.png", contents: try Self.photo())
        let classified = try FishOpsProcess.run(["classify", photo, "--json"], home: home)
        #expect(classified.status == 1)
        #expect(
            classified.stdout.contains("NaN or infinite") || classified.stderr.contains("NaN or infinite"),
            "\(classified.stdout) \(classified.stderr)")
    }

    /// 100 KB of nested lists once crashed `weights import` (SIGSEGV); a 200 KB zip bomb made it
    /// allocate the whole inflated pickle.
    @Test(.enabled(if: Fixtures.python != nil, "needs python3 to write the hostile checkpoints"), arguments: ["nested", "bomb"])
    func hostileCheckpointsAreRefusedWithoutACrash(kind: String) throws {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let file = try Fixtures.temporaryDirectory().appendingPathComponent("\(kind).pt")
        let script = Process()
        script.executableURL = URL(fileURLWithPath: try #require(Fixtures.python))
        script.arguments = [Fixtures.root.appendingPathComponent("Tests/Fixtures/torch_checkpoints.py").path, kind, file.path]
        try script.run()
        script.waitUntilExit()
        try #require(script.terminationStatus == 0)
        let run = try FishOpsProcess.run(["weights", "import", file.path], home: home, memoryLimitKB: Self.memoryLimitKB)
        #expect(run.status == 1, "exit \(run.status): \(run.stderr)")
        #expect(run.stderr.contains("corrupt or truncated PyTorch checkpoint"), "\(run.stderr)")
    }

    static func sha256(of file: URL) throws -> String {
        let output = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [file.path]
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return String(text.prefix(64))
    }

    @Test func registrationNeverReplacesAFolderItFinds() throws {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        // A folder where version 2 would go, left by an import killed before it was recorded.
        let leftover = home.appendingPathComponent("models/imagenet-lite0/2")
        try FileManager.default.createDirectory(at: leftover, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: leftover.appendingPathComponent("note.txt"))
        let stale = home.appendingPathComponent("models/imagenet-lite0/.tmp-2-killed")
        try FileManager.default.createDirectory(at: stale, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: stale.path)

        let again = home.appendingPathComponent("models/imagenet-lite0/1/weights.safetensors").path
        let run = try FishOpsProcess.run(["weights", "import", again], home: home)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: leftover.appendingPathComponent("weights.safetensors").path))
        let siblings = try FileManager.default.contentsOfDirectory(atPath: leftover.deletingLastPathComponent().path)
        let aside = try #require(siblings.first { $0.hasPrefix("2.orphaned-") }, "\(siblings)")
        #expect(
            try String(
                contentsOf: leftover.deletingLastPathComponent().appendingPathComponent("\(aside)/note.txt"), encoding: .utf8)
                == "keep me")
        #expect(!FileManager.default.fileExists(atPath: stale.path), "stale staging folders are removed on open")
    }

    @Test func damagedPackagesCannotBePromotedAndDoctorNamesThem() throws {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        #expect(try FishOpsProcess.run(["doctor"], home: home).status == 0)
        let weights = home.appendingPathComponent("models/imagenet-lite0/1/weights.safetensors")
        let handle = try FileHandle(forUpdating: weights)
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data(repeating: 0xAB, count: 64))
        try handle.close()
        let promotion = try FishOpsProcess.run(
            ["models", "promote", "imagenet-lite0", "1", "--reason", "r", "--force"], home: home)
        #expect(promotion.status != 0)
        #expect(promotion.stderr.contains("does not match its sha256"), "\(promotion.stderr)")
        let doctor = try FishOpsProcess.run(["doctor"], home: home)
        #expect(doctor.status == 1)
        #expect(doctor.stdout.contains("PROBLEM imagenet-lite0 v1 package"), "\(doctor.stdout)")
    }

    @Test func concurrentImportsOfOneFileMakeOneVersion() throws {
        let home = try Fixtures.temporaryDirectory()
        let runs = try (0..<3).map { _ in try FishOpsProcess.start(["weights", "import", Fixtures.weights.path], home: home) }
        for run in runs { run.waitUntilExit() }
        #expect(runs.allSatisfy { $0.terminationStatus == 0 })
        let versions = try FileManager.default.contentsOfDirectory(
            atPath: home.appendingPathComponent("models/imagenet-lite0").path
        )
        .filter { !$0.hasPrefix(".") }
        #expect(versions == ["1"])
    }

    @Test func controlCharactersCannotForgeHistoryLines() throws {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let promotion = try FishOpsProcess.run(
            [
                "models", "promote", "imagenet-lite0", "1", "--reason",
                "ok\n2026-01-01 root promote v9 \u{1b}[2Jforged",
            ], home: home)
        #expect(promotion.status == 0, "\(promotion.stderr)")
        let history = try FishOpsProcess.run(["models", "history", "imagenet-lite0"], home: home)
        #expect(!history.stdout.contains("\u{1b}") && !history.stdout.contains("\n2026-01-01"))
        #expect(history.stdout.contains("ok\\u{a}2026-01-01 root promote v9 \\u{1b}[2Jforged"), "\(history.stdout)")
    }

    static func chattr(_ flag: String, _ path: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
        process.arguments = [flag, path]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
    }

    /// A failed package write once blamed store.sqlite with a raw NSCocoaErrorDomain message.
    @Test(
        .enabled(
            if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/chattr"),
            "needs root and chattr to make a folder unwritable"))
    func unwritableModelFolderIsNamedInPlainWords() throws {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let folder = home.appendingPathComponent("models/imagenet-lite0")
        let other = try Fixtures.file(
            named: "copy.safetensors",
            contents: try Data(contentsOf: folder.appendingPathComponent("1/weights.safetensors")))
        try Self.chattr("+i", folder.path)
        defer { try? Self.chattr("-i", folder.path) }
        let run = try FishOpsProcess.run(["weights", "import", other], home: home)
        #expect(run.status == 1)
        #expect(run.stderr.contains("\(folder.path)") && run.stderr.lowercased().contains("permission"), "\(run.stderr)")
        #expect(!run.stderr.contains("NSCocoaErrorDomain") && !run.stderr.contains("store.sqlite"), "\(run.stderr)")
    }

    @Test func emptiedStoreStopsEveryCommand() throws {
        let home = try ClassifyCommandTests.homeWithBaseModel()
        let store = home.appendingPathComponent("store.sqlite").path
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: store + suffix) }
        try Data().write(to: URL(fileURLWithPath: store))
        for arguments in [["weights", "import", Fixtures.weights.path], ["models", "list"]] {
            let run = try FishOpsProcess.run(arguments, home: home)
            #expect(run.status != 0)
            #expect(run.stderr.contains("restore store.sqlite from a backup"), "\(arguments): \(run.stderr)")
        }
        #expect(
            FileManager.default.fileExists(
                atPath: home.appendingPathComponent("models/imagenet-lite0/1/weights.safetensors").path))
        #expect((try FileManager.default.attributesOfItem(atPath: store)[.size] as? Int) == 0, "the store was not rewritten")
    }
}
