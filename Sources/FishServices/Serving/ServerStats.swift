public import Foundation

/// What `GET /v1/stats` of a running `fishops serve` answers: its traffic over the last minute and
/// the last 15 minutes, its queue, batches and cache, and the answers it gave recently.
public struct ServerStats: Codable, Sendable, Equatable {
    /// A number of requests of one kind (an error code such as `corrupt_image`, or a rejection
    /// such as `overloaded`).
    public struct KindCount: Codable, Sendable, Equatable {
        public var kind: String
        public var count: Int

        public init(kind: String, count: Int) {
            self.kind = kind
            self.count = count
        }
    }

    public struct Latency: Codable, Sendable, Equatable {
        public var p50: Double
        public var p95: Double
        public var p99: Double

        public init(p50: Double, p95: Double, p99: Double) {
            self.p50 = p50
            self.p95 = p95
            self.p99 = p99
        }
    }

    /// The classification requests of one window. Rejections are requests refused by a limit
    /// (401, 403, 408, 413, 429, 503); errors are every other answer of 400 and above.
    public struct Window: Codable, Sendable, Equatable {
        public var seconds: Int
        public var requests: Int
        public var answered: Int
        public var errors: [KindCount]
        public var rejections: [KindCount]
        public var requestsPerSecond: Double
        /// Milliseconds from the request's arrival to its answer (nil without requests).
        public var latencyMs: Latency?

        public init(
            seconds: Int, requests: Int, answered: Int, errors: [KindCount], rejections: [KindCount],
            requestsPerSecond: Double, latencyMs: Latency?
        ) {
            self.seconds = seconds
            self.requests = requests
            self.answered = answered
            self.errors = errors
            self.rejections = rejections
            self.requestsPerSecond = requestsPerSecond
            self.latencyMs = latencyMs
        }

        /// Errors and rejections together.
        public var failed: Int { (errors + rejections).reduce(0) { $0 + $1.count } }
    }

    /// Forward passes by batch size, since the server started.
    public struct Batches: Codable, Sendable, Equatable {
        public struct Size: Codable, Sendable, Equatable {
            public var size: Int
            public var count: Int

            public init(size: Int, count: Int) {
                self.size = size
                self.count = count
            }
        }

        public var count: Int
        public var meanSize: Double?
        public var sizes: [Size]

        public init(count: Int, meanSize: Double?, sizes: [Size]) {
            self.count = count
            self.meanSize = meanSize
            self.sizes = sizes
        }
    }

    /// The answer cache since the server started.
    public struct Cache: Codable, Sendable, Equatable {
        public var entries: Int
        public var hits: Int
        public var misses: Int
        public var hitRatio: Double?

        public init(entries: Int, hits: Int, misses: Int) {
            self.entries = entries
            self.hits = hits
            self.misses = misses
            hitRatio = hits + misses > 0 ? Double(hits) / Double(hits + misses) : nil
        }
    }

    /// One image's answer, as the recent-answer lists keep it.
    public struct Answer: Codable, Sendable, Equatable {
        public var at: Date
        /// The sha256 of the image bytes, hex.
        public var sha256: String
        public var version: Int
        public var label: String
        public var confidence: Double
        public var cached: Bool

        public init(at: Date, sha256: String, version: Int, label: String, confidence: Double, cached: Bool) {
            self.at = at
            self.sha256 = sha256
            self.version = version
            self.label = label
            self.confidence = confidence
            self.cached = cached
        }
    }

    public struct ClassShare: Codable, Sendable, Equatable {
        public var label: String
        public var share: Double

        public init(label: String, share: Double) {
            self.label = label
            self.share = share
        }
    }

    /// The most recent answers (up to `TrafficWindow`'s cap): their class mix, top-1 confidence,
    /// and the latest ones below the low-confidence threshold.
    public struct Recent: Codable, Sendable, Equatable {
        public var answers: Int
        /// Share of each top-1 class, largest first.
        public var classMix: [ClassShare]
        public var meanConfidence: Double?
        /// Answers per tenth of top-1 confidence: [0, 0.1), [0.1, 0.2), ... [0.9, 1].
        public var confidenceHistogram: [Int]
        public var lowConfidenceThreshold: Double
        /// Newest first.
        public var lowConfidence: [Answer]

        public init(
            answers: Int, classMix: [ClassShare], meanConfidence: Double?, confidenceHistogram: [Int],
            lowConfidenceThreshold: Double, lowConfidence: [Answer]
        ) {
            self.answers = answers
            self.classMix = classMix
            self.meanConfidence = meanConfidence
            self.confidenceHistogram = confidenceHistogram
            self.lowConfidenceThreshold = lowConfidenceThreshold
            self.lowConfidence = lowConfidence
        }
    }

    /// The last 15 minutes in steps, oldest first: requests per second and p95 latency of each
    /// step (nil for a step without requests).
    public struct Series: Codable, Sendable, Equatable {
        public var stepSeconds: Int
        public var requestsPerSecond: [Double]
        public var p95Ms: [Double?]

        public init(stepSeconds: Int, requestsPerSecond: [Double], p95Ms: [Double?]) {
            self.stepSeconds = stepSeconds
            self.requestsPerSecond = requestsPerSecond
            self.p95Ms = p95Ms
        }
    }

    /// The drift window of the served version: its last check against the version's training data.
    public struct Drift: Codable, Sendable, Equatable {
        public var version: Int
        /// When the last check ran (nil before the first).
        public var checkedAt: Date?
        public var check: DriftCheck?
        /// Uncached answers still needed before the first check.
        public var waitingFor: Int
        /// The share of each class among the version's top-1 answers on its test split.
        public var testClassMix: [ClassShare]

        public init(version: Int, checkedAt: Date?, check: DriftCheck?, waitingFor: Int = 0, testClassMix: [ClassShare] = []) {
            self.version = version
            self.checkedAt = checkedAt
            self.check = check
            self.waitingFor = waitingFor
            self.testClassMix = testClassMix
        }
    }

    public var model: String
    public var alias: String
    /// The version answering now (nil before the first load).
    public var version: Int?
    public var startedAt: Date
    /// When the server computed these numbers.
    public var at: Date
    public var lastMinute: Window
    public var lastQuarterHour: Window
    public var queueDepth: Int
    public var batches: Batches
    public var cache: Cache
    public var recent: Recent
    public var series: Series
    /// Nil when the served version carries no drift reference (or the server predates drift).
    public var drift: Drift?

    public init(
        model: String, alias: String, version: Int?, startedAt: Date, at: Date, lastMinute: Window, lastQuarterHour: Window,
        queueDepth: Int, batches: Batches, cache: Cache, recent: Recent, series: Series, drift: Drift? = nil
    ) {
        self.model = model
        self.alias = alias
        self.version = version
        self.startedAt = startedAt
        self.at = at
        self.lastMinute = lastMinute
        self.lastQuarterHour = lastQuarterHour
        self.queueDepth = queueDepth
        self.batches = batches
        self.cache = cache
        self.recent = recent
        self.series = series
        self.drift = drift
    }

    /// The encoder of the JSON form: snake_case keys, ISO 8601 dates.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = .sortedKeys
        return encoder
    }

    /// The decoder of the JSON form.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
