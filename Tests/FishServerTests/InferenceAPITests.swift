import FishServer
import FishServices
import FishTestSupport
import Foundation
import Hummingbird
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The inference API served on a loopback port and asked over real connections.
@Suite(
    .enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"),
    .enabled(if: Fixtures.sharedAvailable, "needs ../shared/reference"),
    .serialized)  // the Prometheus registry is one per process: metric deltas need one test at a time
struct InferenceAPITests {
    func api(options: InferenceAPI.Options = .init(), load: Bool = true) throws -> InferenceAPI {
        let context = try ServiceContext(config: FishConfig(home: try Fixtures.temporaryDirectory(), threads: 2))
        _ = try WeightsService(context: context).importImageNetWeights(path: Fixtures.weights.path)
        let api = try InferenceAPI(context: context, model: FishConfig.baseModelName, alias: "production", options: options)
        if load { try api.reload() }
        return api
    }

    var coffee: ByteBuffer {
        get throws {
            ByteBuffer(bytes: try Data(contentsOf: Fixtures.shared.appendingPathComponent("reference/images/coffee.png")))
        }
    }

    /// A small PNG no other test sends (so the cache cannot answer it).
    func distinctImage(seed: UInt64) throws -> ByteBuffer {
        ByteBuffer(
            bytes: try TestImages.png(TestImages.blobs(width: 64, height: 48, seed: seed), width: 64, height: 48, colorType: .rgb)
        )
    }

    @Test func classifyModelsHealthPageAndMetrics() async throws {
        let api = try api()
        defer { api.shutdown() }
        let image = try coffee
        try await LoopbackClient.serve(api.router()) { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok && response.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(String(buffer: response.body).contains("/v1/classify"))
            }
            for cached in [false, true] {
                try await client.execute(uri: "/v1/classify?top=3", method: .post, body: image) { response in
                    #expect(response.status == .ok)
                    let body = json(response.body)
                    let top = body["top"] as? [[String: Any]] ?? []
                    #expect(top.count == 3 && top.first?["label"] as? String == "espresso" && top.first?["index"] as? Int == 967)
                    #expect((body["model"] as? [String: Any])?["version"] as? Int == 1 && body["cached"] as? Bool == cached)
                    #expect(
                        Set((body["timings_ms"] as? [String: Double] ?? [:]).keys).isSuperset(of: ["decode", "infer", "total"]))
                }
            }
            try await client.execute(uri: "/v1/models", method: .get) { response in
                let body = json(response.body)
                #expect(
                    body["name"] as? String == "imagenet-lite0" && body["version"] as? Int == 1
                        && body["alias"] as? String == "production")
                #expect((body["classes"] as? [String])?.count == 1000 && body["metrics"] is [String: Any])
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                for line in [
                    "fishops_cache_hits_total", "fishops_cache_misses_total", "fishops_cache_hit_ratio",
                    "fishops_batch_size_count",
                    "fishops_queue_depth", "fishops_model_version{model=\"imagenet-lite0\",alias=\"production\"} 1",
                    "http_route=\"/v1/classify\"", "fishops_http_request_duration_seconds_bucket", "fishops_http_requests_total{",
                    "# HELP fishops_queue_depth ",
                ] {
                    #expect(text.contains(line), "\(line) missing from /metrics")
                }
            }
        }
    }

    @Test func multipartSingleAndBatch() async throws {
        let api = try api()
        defer { api.shutdown() }
        let coffee = try coffee
        let form = Multipart(parts: [("note", nil, ByteBuffer(string: "not an image field")), ("image", "coffee.png", coffee)])
        let batch = Multipart(parts: [
            ("images", "a.png", coffee), ("images", "b.png", try distinctImage(seed: 1)),
            ("images", "notes.txt", ByteBuffer(string: "hello")),
            ("images", "cut.png", coffee.getSlice(at: 0, length: 3000) ?? ByteBuffer()),
        ])
        try await LoopbackClient.serve(api.router()) { client in
            try await client.execute(uri: "/v1/classify?top=1", method: .post, headers: form.headers, body: form.body) {
                response in
                #expect(response.status == .ok)
                #expect((json(response.body)["top"] as? [[String: Any]])?.first?["label"] as? String == "espresso")
            }
            try await client.execute(uri: "/v1/classify/batch?top=2", method: .post, headers: batch.headers, body: batch.body) {
                response in
                #expect(response.status == .ok)
                let results = json(response.body)["results"] as? [[String: Any]] ?? []
                #expect(results.map { $0["name"] as? String } == ["a.png", "b.png", "notes.txt", "cut.png"])
                #expect((results[0]["top"] as? [[String: Any]])?.first?["label"] as? String == "espresso")
                #expect((results[1]["top"] as? [[String: Any]])?.count == 2 && results[1]["cached"] as? Bool == false)
                #expect((results[2]["error"] as? [String: Any])?["code"] as? String == "unsupported_image")
                #expect((results[3]["error"] as? [String: Any])?["code"] as? String == "corrupt_image")
            }
            try await client.execute(uri: "/v1/classify", method: .post, headers: batch.headers, body: batch.body) { response in
                #expect(response.status == .badRequest && errorCode(response.body) == "several_images")
            }
        }
    }

    @Test func badRequestsGetJSONErrors() async throws {
        var options = InferenceAPI.Options()
        options.maxBodyBytes = 100_000
        options.maxPixels = 10_000
        options.maxImagesPerRequest = 2
        let api = try api(options: options)
        defer { api.shutdown() }
        let image = try coffee
        let big = try TestImages.png(TestImages.gradient(width: 200, height: 100), width: 200, height: 100, colorType: .rgb)
        let truncated = try TestImages.jpeg(TestImages.gradient(width: 64, height: 64), width: 64, height: 64).prefix(400)
        let small = try distinctImage(seed: 4)
        let three = Multipart(parts: (1...3).map { ("images", "\($0).png", small) })
        let empty = Multipart(parts: [("note", nil, ByteBuffer(string: "no file here"))])
        let cases: [(String, HTTPFields, ByteBuffer, HTTPResponse.Status, String)] = [
            ("/v1/classify", [:], ByteBuffer(string: "not an image"), .unsupportedMediaType, "unsupported_image"),
            ("/v1/classify", [:], ByteBuffer(bytes: truncated), .unprocessableContent, "corrupt_image"),
            ("/v1/classify", [:], ByteBuffer(bytes: big), .unprocessableContent, "too_many_pixels"),
            // One byte over the limit: the server reads the whole body, so the connection ends cleanly.
            ("/v1/classify", [:], ByteBuffer(bytes: [UInt8](repeating: 0, count: 100_001)), .contentTooLarge, "too_large"),
            ("/v1/classify?top=0", [:], image, .badRequest, "bad_top"),
            ("/v1/classify?top=many", [:], image, .badRequest, "bad_top"),
            ("/v1/classify", empty.headers, empty.body, .badRequest, "no_image"),
            ("/v1/classify", [.contentType: "multipart/form-data"], small, .badRequest, "bad_multipart"),
            ("/v1/classify/batch", three.headers, three.body, .contentTooLarge, "too_many_images"),
            ("/v1/nowhere", [:], small, .notFound, "not_found"),
            // Found by fuzzing: one byte over 0x7f in a part's header name crashed MultipartKit 4.7.1.
            (
                "/v1/classify/batch", [.contentType: "multipart/form-data; boundary=B"],
                ByteBuffer(
                    bytes: Array("--B\r\nContent-Disposition: form-data; name=\"images\"; filename=\"a.png\"\r\nContent-Typ".utf8)
                        + [0xE5] + Array(": image/png\r\n\r\nxx\r\n--B--\r\n".utf8)), .badRequest, "bad_multipart"
            ),
        ]
        try await LoopbackClient.serve(api.router()) { client in
            for (uri, headers, body, status, code) in cases {
                try await client.execute(uri: uri, method: .post, headers: headers, body: body) { response in
                    #expect(response.status == status, "\(code)")
                    #expect(errorCode(response.body) == code)
                    #expect(response.headers[.contentType] == "application/json")
                }
            }
        }
    }

    @Test func statsCountRequestsFailuresCacheHitsAndRecentAnswers() async throws {
        let api = try api()
        defer { api.shutdown() }
        let images = try (11...13).map { try distinctImage(seed: UInt64($0)) }
        let truncated = try TestImages.jpeg(TestImages.gradient(width: 64, height: 64), width: 64, height: 64).prefix(400)
        try await LoopbackClient.serve(api.router()) { client in
            for image in images + [images[0]] {
                try await client.execute(uri: "/v1/classify", method: .post, body: image) { #expect($0.status == .ok) }
            }
            try await client.execute(uri: "/v1/classify", method: .post, body: ByteBuffer(bytes: truncated)) {
                #expect($0.status == .unprocessableContent)
            }
            // Routes other than classification are not traffic.
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            let response = try await client.execute(uri: "/v1/stats", method: .get)
            #expect(response.status == .ok && response.headers[.contentType] == "application/json")
            let stats = try ServerStats.decoder().decode(ServerStats.self, from: Data(response.body.readableBytesView))
            #expect(stats.model == FishConfig.baseModelName && stats.alias == "production" && stats.version == 1)
            #expect(stats.lastMinute.requests == 5 && stats.lastMinute.answered == 4)
            #expect(stats.lastMinute.errors == [.init(kind: "corrupt_image", count: 1)] && stats.lastMinute.rejections.isEmpty)
            #expect(stats.lastMinute.latencyMs.map { $0.p50 > 0 && $0.p50 <= $0.p95 && $0.p95 <= $0.p99 } == true)
            #expect(stats.lastQuarterHour.requests == 5)
            #expect(stats.cache.hits == 1 && stats.cache.misses == 4 && stats.cache.entries == 3)
            #expect(stats.batches.count == 3 && stats.batches.meanSize == 1)
            #expect(stats.queueDepth == 0)
            #expect(stats.recent.answers == 4 && stats.recent.classMix.reduce(0) { $0 + $1.share } > 0.999)
            #expect(stats.recent.meanConfidence.map { $0 > 0 && $0 <= 1 } == true)
            #expect(stats.recent.confidenceHistogram.reduce(0, +) == 4)
        }
    }

    @Test func tokensGuardEveryRouteButHealthReadinessAndMetrics() async throws {
        var options = InferenceAPI.Options()
        options.auth = try ServerAuth(inferenceToken: "s3cret-inference", adminToken: "s3cret-admin")
        let api = try api(options: options)
        defer { api.shutdown() }
        let image = try coffee
        try await LoopbackClient.serve(api.router()) { client in
            for open in ["/healthz", "/readyz", "/metrics", "/"] {
                try await client.execute(uri: open, method: .get) { #expect($0.status == .ok, "\(open)") }
            }
            for header in [nil, "Bearer wrong", "Basic czNjcmV0", "Bearer s3cret-inferenc"] {
                var headers = HTTPFields()
                if let header { headers[.authorization] = header }
                try await client.execute(uri: "/v1/classify", method: .post, headers: headers, body: image) { response in
                    #expect(response.status == .unauthorized && errorCode(response.body) == "unauthorized")
                    #expect(response.headers[.wwwAuthenticate] == "Bearer")
                    #expect(!String(buffer: response.body).contains("s3cret"), "the answer never echoes a token")
                }
            }
            for token in ["s3cret-inference", "s3cret-admin"] {
                try await client.execute(
                    uri: "/v1/classify", method: .post, headers: [.authorization: "Bearer \(token)"], body: image
                ) {
                    #expect($0.status == .ok)
                }
            }
            try await client.execute(
                uri: "/v1/admin/anything", method: .get, headers: [.authorization: "Bearer s3cret-inference"]
            ) {
                #expect($0.status == .forbidden && errorCode($0.body) == "forbidden")
            }
            try await client.execute(uri: "/v1/admin/anything", method: .get, headers: [.authorization: "Bearer s3cret-admin"]) {
                #expect($0.status == .notFound, "the admin token passes; no admin route exists yet")
            }
        }
        var protected = options
        protected.protectMetrics = true
        let guarded = try self.api(options: protected)
        defer { guarded.shutdown() }
        try await LoopbackClient.serve(guarded.router()) { client in
            try await client.execute(uri: "/metrics", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer s3cret-inference"]) {
                #expect($0.status == .ok)
            }
        }
    }

    @Test func wrongMethodsGet405AndErrorsAreCounted() async throws {
        let api = try api()
        defer { api.shutdown() }
        try await LoopbackClient.serve(api.router()) { client in
            try await client.execute(uri: "/v1/classify", method: .get) { response in
                #expect(response.status == .methodNotAllowed && errorCode(response.body) == "method_not_allowed")
                #expect(response.headers[.allow] == "POST")
            }
            try await client.execute(uri: "/healthz", method: .post) { #expect($0.status == .methodNotAllowed) }
            try await client.execute(uri: "/v1/classify", method: .post, body: ByteBuffer(string: "not an image")) {
                #expect($0.status == .unsupportedMediaType)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                let errorLine = text.split(separator: "\n").first {
                    $0.hasPrefix("fishops_http_request_duration_seconds_count") && $0.contains("http_route=\"/v1/classify\"")
                        && $0.contains("415")
                }
                #expect(errorLine != nil, "failed requests are in the duration histogram")
            }
        }
    }

    /// `promtool check metrics` (Debian's prometheus package) accepts every family; the old names
    /// appear only when asked for. One test: once asked for, they stay in this process's registry.
    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool"),
            "needs promtool (Debian's prometheus package; make test-deps)"))
    func metricsPassPromtoolAndTheOldNamesAreOptIn() async throws {
        let api = try api()
        defer { api.shutdown() }
        try await LoopbackClient.serve(api.router()) { client in
            try await client.execute(uri: "/v1/classify", method: .post, body: try distinctImage(seed: 21)) {
                #expect($0.status == .ok)
            }
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            let (status, report) = try Self.promtool(text)
            #expect(status == 0, "promtool check metrics: \(report)")
            #expect(!text.contains("hb_requests"))
        }
        var legacy = InferenceAPI.Options()
        legacy.legacyMetricNames = true
        let old = try self.api(options: legacy)
        defer { old.shutdown() }
        try await LoopbackClient.serve(old.router()) { client in
            try await client.execute(uri: "/v1/classify", method: .post, body: try distinctImage(seed: 22)) {
                #expect($0.status == .ok)
            }
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            for name in ["hb_requests{", "http_server_request_duration_bucket{", "fishops_http_requests_total{"] {
                #expect(text.contains(name), "\(name) missing with legacyMetricNames")
            }
        }
    }

    /// promtool's exit status and report on `exposition`.
    static func promtool(_ exposition: String) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
        process.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(exposition.utf8))
        try input.fileHandleForWriting.close()
        let report = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: report, as: UTF8.self))
    }

    @Test func notReadyBeforeTheModelLoads() async throws {
        let api = try api(load: false)
        defer { api.shutdown() }
        let image = try coffee
        try await LoopbackClient.serve(api.router()) { client in
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .serviceUnavailable) }
            try await client.execute(uri: "/v1/classify", method: .post, body: image) { response in
                #expect(response.status == .serviceUnavailable && errorCode(response.body) == "not_ready")
            }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
    }

    /// A queue of one image: while the first request waits for its batch to fill, the second gets
    /// 503 with Retry-After, and the first still succeeds (over a real loopback connection).
    @Test func fullQueueAnswers503WithRetryAfter() async throws {
        var options = InferenceAPI.Options()
        options.maxQueue = 1
        // Long enough that a cooperative pool kept busy by other tests cannot let the first
        // request's batch run before the second arrives.
        options.maxWait = .seconds(5)
        let api = try api(options: options)
        defer { api.shutdown() }
        let (first, second) = (try distinctImage(seed: 2), try distinctImage(seed: 3))
        try await LoopbackClient.serve(api.router()) { client in
            // Separate connections (the test client sends one request at a time on its own).
            let port = try #require(client.port)
            async let waiting = post(first, port: port)
            let deadline = ContinuousClock.now + .seconds(30)
            while api.stats().queueDepth == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            let refused = try await post(second, port: port)
            #expect(refused.status == 503 && errorCode(ByteBuffer(bytes: refused.body)) == "overloaded")
            #expect(refused.retryAfter == "1")
            #expect(try await waiting.status == 200)
        }
    }

    /// The decode queue is bounded: with one decode thread and room for one waiting upload, a burst
    /// of heavy uploads gets fast 503s beyond that instead of a growing queue.
    @Test func fullDecodeQueueAnswers503() async throws {
        var options = InferenceAPI.Options()
        options.decodeThreads = 1
        options.maxDecodeQueue = 1
        let api = try api(options: options)
        defer { api.shutdown() }
        let heavy = try TestImages.png([UInt8](repeating: 90, count: 3000 * 3000), width: 3000, height: 3000, colorType: .grey)
        try await LoopbackClient.serve(api.router()) { client in
            let port = try #require(client.port)
            let statuses = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for index in 0..<6 {
                    var unique = heavy
                    unique.append(contentsOf: Array("\(index)".utf8))  // after IEND: a new hash
                    group.addTask {
                        let answer = try await post(ByteBuffer(bytes: unique), port: port)
                        return (answer.status, errorCode(ByteBuffer(bytes: answer.body)))
                    }
                }
                return try await group.reduce(into: [(Int, String?)]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0.0 == 200 || ($0.0 == 503 && $0.1 == "overloaded") }, "\(statuses)")
            #expect(statuses.contains { $0.0 == 503 }, "six at once exceed one thread and one waiting place: \(statuses)")
            #expect(statuses.contains { $0.0 == 200 })
        }
    }

    /// Concurrent requests share forward passes (two lanes: the context has two threads).
    @Test func concurrentRequestsAreBatched() async throws {
        var options = InferenceAPI.Options()
        options.maxWait = .milliseconds(200)
        options.maxBatch = 4
        let api = try api(options: options)
        defer { api.shutdown() }
        let images = try (10..<14).map { try distinctImage(seed: $0) }
        try await LoopbackClient.serve(api.router()) { client in
            let before = try await metric("fishops_batch_size", client)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for image in images {
                    group.addTask {
                        let response = try await post(image, port: try #require(client.port))
                        #expect(response.status == 200)
                    }
                }
                try await group.waitForAll()
            }
            let after = try await metric("fishops_batch_size", client)
            // The first free lane takes its share (half the queue); the rest follow as lanes free up.
            #expect(
                after.sum - before.sum == 4 && after.count - before.count <= 3, "four requests, fewer than four forward passes")
        }
    }

    /// The count and sum of a histogram on `/metrics`.
    func metric(_ name: String, _ client: LoopbackClient) async throws -> (count: Double, sum: Double) {
        let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
        func value(_ line: String) -> Double {
            text.split(separator: "\n").first { $0.hasPrefix(line + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
                ?? 0
        }
        return (value(name + "_count"), value(name + "_sum"))
    }
}

/// POSTs `image` to `/v1/classify` on its own connection.
func post(_ image: ByteBuffer, port: Int) async throws -> (status: Int, retryAfter: String?, body: Data) {
    var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)/v1/classify")))
    request.httpMethod = "POST"
    request.httpBody = Data(image.readableBytesView)
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = response as? HTTPURLResponse
    return (http?.statusCode ?? 0, http?.value(forHTTPHeaderField: "Retry-After"), data)
}

/// A multipart/form-data body.
struct Multipart {
    let boundary = "fishops-test-\(UInt64.random(in: 0...UInt64.max))"
    let parts: [(field: String, fileName: String?, content: ByteBuffer)]

    var headers: HTTPFields { [.contentType: "multipart/form-data; boundary=\(boundary)"] }

    var body: ByteBuffer {
        var body = ByteBuffer()
        for (field, fileName, content) in parts {
            body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field)\"")
            if let fileName { body.writeString("; filename=\"\(fileName)\"\r\nContent-Type: application/octet-stream") }
            body.writeString("\r\n\r\n")
            body.writeImmutableBuffer(content)
            body.writeString("\r\n")
        }
        body.writeString("--\(boundary)--\r\n")
        return body
    }
}

func json(_ body: ByteBuffer) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]) ?? [:]
}

func errorCode(_ body: ByteBuffer) -> String? {
    (json(body)["error"] as? [String: Any])?["code"] as? String
}
