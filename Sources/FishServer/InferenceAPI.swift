public import FishServices
public import Foundation
public import Hummingbird

/// The HTTP inference API over the service layer: classification (single and batch), the served
/// model, its traffic (`/v1/stats`), health, readiness, Prometheus metrics and an upload page.
public struct InferenceAPI: Sendable {
    /// Limits that protect the server, and how requests are batched and cached.
    public struct Options: Sendable {
        /// Largest request body accepted (413 above it).
        public var maxBodyBytes = 20 * 1024 * 1024
        /// Largest decoded image accepted (422 above it), checked before its pixels are allocated.
        public var maxPixels = FishConfig.defaultMaxPixels
        public var maxTop = 20
        /// Most images in one `/v1/classify/batch` request (413 above it).
        public var maxImagesPerRequest = 64
        /// Most images in one forward pass.
        public var maxBatch = 32
        /// How long the first request of a batch waits for company (none by default: under load
        /// batches form from the queue by themselves).
        public var maxWait: Duration = .zero
        /// Images waiting for the engine before new ones get 503 with `Retry-After`.
        public var maxQueue = 256
        /// Answers kept in the LRU cache (0 turns it off).
        public var cacheEntries = 10_000
        /// Most parts in one multipart body (413 above it), counted before the body is parsed.
        public var maxParts = 256
        /// Threads that parse, decode and resize uploads (never the cooperative pool's).
        public var decodeThreads = ProcessInfo.processInfo.activeProcessorCount
        /// Uploads waiting for a decode thread before new ones get 503 with `Retry-After`.
        public var maxDecodeQueue = 64
        /// How long an upload may wait for a decode thread before it gets 503.
        public var decodeTimeout: Duration = .seconds(10)
        /// How long a client may take to send a request's body once its head has arrived (408 after it).
        public var bodyTimeout: Duration = .seconds(60)
        /// Tokens the routes require (nil: open, as on loopback by default).
        public var auth: ServerAuth?
        /// Whether `/metrics` needs the inference token too (it is open by default, for scrapers).
        public var protectMetrics = false
        /// Whether `/metrics` also carries Hummingbird's request metrics under their earlier names
        /// (`hb_requests`, ...), for dashboards not yet moved to `fishops_http_*`.
        public var legacyMetricNames = false
        /// Where answers are logged (nil: not logged); `shutdown` closes it.
        public var predictionLog: PredictionLogWriter?
        /// The share of answers logged (0...1).
        public var predictionSample = 1.0
        /// How often the drift window is checked against the served version's training data.
        public var driftInterval: Duration = .seconds(15)
        /// How long a connection may stay open with no request part arriving: between requests, and
        /// while a request's head is still incomplete (closed after it).
        public var idleTimeout: Duration = .seconds(30)
        /// How long SIGTERM lets clients finish on their open connections before the server stops
        /// (see `ConnectionDrain`); zero stops at once, after the requests in flight.
        public var drainTimeout: Duration = .seconds(5)

        public init() {}
    }

    let served: ServedModel
    let options: Options
    let batcher: InferenceBatcher
    let decoder: DecodePool
    let cache: PredictionCache
    let drain = ConnectionDrain()
    let traffic: TrafficWindow
    let drift: DriftWindow
    let startedAt = Date()

    /// Serves `model` as its `alias` points (falling back to the latest version while the alias is
    /// unset), or the version a `models:/` URI names in MLflow; a malformed URI is an error.
    public init(context: ServiceContext, model: String, alias: String, options: Options = Options()) throws(ServiceError) {
        let metrics = ServerMetrics(model: model, alias: alias, driftInterval: options.driftInterval) { version, check in
            HookService(context: context).driftRaised(model: model, alias: alias, version: version, check: check)
        }
        traffic = metrics.traffic
        drift = metrics.drift
        served = try ServedModel(context: context, name: model, alias: alias, metrics: metrics)
        self.options = options
        batcher = InferenceBatcher(
            options: .init(
                maxBatch: options.maxBatch, maxWait: options.maxWait, maxQueue: options.maxQueue,
                cores: context.config.threads), metrics: metrics)
        decoder = DecodePool(threads: options.decodeThreads, maxQueue: options.maxDecodeQueue)
        cache = PredictionCache(capacity: options.cacheEntries, metrics: metrics)
    }

    /// Loads the version the alias points at when it is not the one served; returns it when it swapped.
    @discardableResult
    public func reload() throws -> Int? { try served.reloadIfMoved() }

    /// Finishes the queued requests and stops the inference and decode threads.
    public func shutdown() {
        batcher.shutdown()
        decoder.shutdown()
        options.predictionLog?.close()
    }

    /// The method each route answers.
    static let methods: [String: HTTPRequest.Method] = [
        "/": .get, "/healthz": .get, "/readyz": .get, "/metrics": .get, "/v1/models": .get, "/v1/stats": .get,
        "/v1/classify": .post, "/v1/classify/batch": .post,
    ]

    /// The routes.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: RequestMetricsMiddleware())
        if options.legacyMetricNames {
            ServerMetrics.legacyFactory
            router.add(middleware: MetricsMiddleware())
        }
        router.add(middleware: JSONErrorMiddleware(methods: Self.methods))
        router.add(middleware: TrafficMiddleware(traffic: traffic))
        if let auth = options.auth { router.add(middleware: AuthMiddleware(auth: auth, protectMetrics: options.protectMetrics)) }
        router.get("/") { _, _ in Self.response(WebPage.html, contentType: "text/html; charset=utf-8") }
        router.get("healthz") { _, _ in try Self.json(["status": "ok"]) }
        router.get("readyz") { _, _ in
            guard !drain.isDraining else { throw APIError.draining }
            let model = try loaded()
            return try Self.json(model.reference)
        }
        router.get("metrics") { _, _ in Self.response(ServerMetrics.exposition(), contentType: "text/plain; version=0.0.4") }
        router.get("v1/models") { _, _ in
            let model = try loaded()
            return try Self.json(
                ModelsResponse(
                    name: model.name, version: model.version, alias: served.alias,
                    classes: model.classNames, metrics: model.recordedMetrics))
        }
        router.get("v1/stats") { _, _ in
            Self.response(ByteBuffer(bytes: try ServerStats.encoder().encode(stats())), contentType: "application/json")
        }
        router.post("v1/classify") { request, _ in
            let (images, top) = try await uploads(request)
            guard images.count == 1 else {
                throw APIError(
                    status: .badRequest, code: images.isEmpty ? "no_image" : "several_images",
                    message: images.isEmpty ? "the request holds no image" : "send several images to /v1/classify/batch")
            }
            let model = try loaded()
            return try Self.json(try await classify(images[0], model: model, top: top))
        }
        router.post("v1/classify/batch") { request, _ in
            let (images, top) = try await uploads(request)
            guard !images.isEmpty else {
                throw APIError(status: .badRequest, code: "no_image", message: "the request holds no image")
            }
            guard images.count <= options.maxImagesPerRequest else {
                throw APIError(
                    status: .contentTooLarge, code: "too_many_images",
                    message: "\(images.count) images in one request; the limit is \(options.maxImagesPerRequest)")
            }
            let model = try loaded()
            return try Self.json(
                BatchResponse(
                    model: model.reference,
                    results: await classifyAll(images, model: model, top: top)))
        }
        return router
    }

    /// The numbers `/v1/stats` answers, as of now.
    public func stats(at time: Date = Date()) -> ServerStats {
        let window = traffic.summary(at: time)
        return ServerStats(
            model: served.name, alias: served.alias, version: served.model?.version, startedAt: startedAt, at: time,
            lastMinute: window.lastMinute, lastQuarterHour: window.lastQuarterHour, queueDepth: batcher.queueDepth,
            batches: window.batches, cache: cache.summary, recent: window.recent, series: window.series, drift: drift.status)
    }

    /// The version answering now (nil before the first load).
    public var servedVersion: Int? { served.model?.version }

    private func loaded() throws(APIError) -> LoadedModel {
        guard let model = served.model else { throw .notReady }
        return model
    }

    /// The request's images and `?top=K`, after checking the body's size and how long it takes to arrive.
    private func uploads(_ request: Request) async throws -> ([ImageUpload], Int) {
        let top = try Self.top(request, limit: options.maxTop)
        let body = try await Self.collectBody(of: request, limit: options.maxBodyBytes, timeout: options.bodyTimeout)
        let (contentType, maxParts) = (request.headers[.contentType], options.maxParts)
        return (try await onDecodeThread { try ImageUpload.all(in: body, contentType: contentType, maxParts: maxParts) }, top)
    }

    /// The whole body, or 413 past `limit` bytes, or 408 when it has not arrived within `timeout`.
    static func collectBody(of request: Request, limit: Int, timeout: Duration) async throws -> ByteBuffer {
        try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask {
                var request = request
                do { return try await request.collectBody(upTo: limit) } catch {
                    throw APIError(status: .contentTooLarge, code: "too_large", message: "the body is larger than \(limit) bytes")
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let body = try await group.next() ?? nil else {
                throw APIError(
                    status: .requestTimeout, code: "body_timeout",
                    message: "the body did not arrive within \(Int(timeout.seconds)) seconds")
            }
            return body
        }
    }

    /// `work` on a decode thread; a full queue or a wait past the deadline is 503.
    private func onDecodeThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws(APIError) -> T {
        do {
            return try await decoder.run(timeout: options.decodeTimeout, work)
        } catch let error as APIError {
            throw error
        } catch {
            throw .overloaded
        }
    }

    static func top(_ request: Request, limit: Int) throws(APIError) -> Int {
        guard let text = request.uri.queryParameters["top"] else { return 5 }
        guard let top = Int(String(text)), (1...limit).contains(top) else {
            throw APIError(status: .badRequest, code: "bad_top", message: "top must be a whole number from 1 to \(limit)")
        }
        return top
    }

    /// What a decode thread makes of an upload: a cached answer, or the model's input for it.
    private enum Prepared: Sendable {
        case cached([Prediction], key: PredictionCache.Key)
        case input([Float], key: PredictionCache.Key)
    }

    /// One image's answer: from the cache, or decoded on a decode thread and run in the next batch.
    func classify(_ upload: ImageUpload, model: LoadedModel, top: Int) async throws(APIError) -> ClassifyResponse {
        let start = ContinuousClock.now
        let line = model.reference
        let (cache, maxPixels) = (cache, options.maxPixels)
        let prepared = try await onDecodeThread { () throws(APIError) -> Prepared in
            let key = PredictionCache.key(upload.bytes.readableBytesView, model: model)
            if let predictions = cache.lookup(key) { return .cached(predictions, key: key) }
            do throws(ImageInputError) {
                return .input(
                    try model.input(fromImage: Data(upload.bytes.readableBytesView), name: "upload", maxPixels: maxPixels),
                    key: key)
            } catch {
                throw APIError(error)
            }
        }
        let input: [Float]
        let key: PredictionCache.Key
        switch prepared {
        case let .cached(predictions, cachedKey):
            let total = (ContinuousClock.now - start).milliseconds
            remember(predictions, key: cachedKey, model: model, cached: true, milliseconds: total, upload: upload)
            return ClassifyResponse(
                model: line, top: Array(predictions.prefix(top)), cached: true,
                timingsMs: ["decode": 0, "queue": 0, "infer": 0, "total": total])
        case let .input(prepared, preparedKey):
            (input, key) = (prepared, preparedKey)
        }
        let decoded = ContinuousClock.now
        let outcome: InferenceBatcher.Outcome
        do { outcome = try await batcher.submit(input, model: model) } catch { throw .overloaded }
        guard let predictions = model.topPredictions(outcome.logits, top: options.maxTop) else { throw .nonFiniteOutput(model) }
        cache.store(predictions, for: key)
        if let best = predictions.first {
            drift.record(embedding: outcome.embedding, top: best.index, confidence: best.probability, model: model)
        }
        let total = (ContinuousClock.now - start).milliseconds
        remember(predictions, key: key, model: model, cached: false, milliseconds: total, upload: upload)
        return ClassifyResponse(
            model: line, top: Array(predictions.prefix(top)), cached: false,
            timingsMs: [
                "decode": (decoded - start).milliseconds, "queue": outcome.queueMilliseconds,
                "infer": outcome.inferMilliseconds, "total": total,
            ])
    }

    /// Keeps an answer among the recent ones `/v1/stats` summarises, and logs a sample of answers
    /// (with the image of a low-confidence one, when images are kept).
    private func remember(
        _ predictions: [Prediction], key: PredictionCache.Key, model: LoadedModel, cached: Bool, milliseconds: Double,
        upload: ImageUpload
    ) {
        guard let top = predictions.first else { return }
        let (now, sha256) = (Date(), key.imageHex)
        traffic.record(
            ServerStats.Answer(
                at: now, sha256: sha256, version: model.version, label: top.label, confidence: top.probability,
                cached: cached))
        guard let log = options.predictionLog,
            options.predictionSample >= 1 || Double.random(in: 0..<1) < options.predictionSample
        else { return }
        let lowConfidence = top.probability < TrafficWindow.lowConfidenceThreshold
        log.append(
            PredictionLogEntry(
                at: now, server: "", sha256: sha256, model: model.name, version: model.version,
                top: Array(predictions.prefix(3)), latencyMs: milliseconds, cached: cached),
            image: lowConfidence && log.keepsImages ? Data(upload.bytes.readableBytesView) : nil)
    }

    /// Every image of a batch request, classified concurrently so they share forward passes.
    private func classifyAll(_ images: [ImageUpload], model: LoadedModel, top: Int) async -> [BatchItem] {
        await withTaskGroup(of: (Int, BatchItem).self) { group in
            for (position, image) in images.enumerated() {
                group.addTask {
                    do throws(APIError) {
                        let answer = try await classify(image, model: model, top: top)
                        return (
                            position,
                            BatchItem(name: image.name, top: answer.top, cached: answer.cached, timingsMs: answer.timingsMs)
                        )
                    } catch {
                        return (position, BatchItem(name: image.name, error: error))
                    }
                }
            }
            var items = [BatchItem?](repeating: nil, count: images.count)
            for await (position, item) in group { items[position] = item }
            return items.compactMap { $0 }
        }
    }

    static func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = .sortedKeys
        return response(ByteBuffer(bytes: try encoder.encode(value)), contentType: "application/json")
    }

    static func response(_ text: String, contentType: String) -> Response {
        response(ByteBuffer(string: text), contentType: contentType)
    }

    static func response(_ body: ByteBuffer, contentType: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }
}
