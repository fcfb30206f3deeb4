import FishServer
public import FishServices
import Foundation

/// `fishops bench serve` (`make loadtest`): wrk against a real `fishops serve` on loopback, uncached
/// and cached, plus the engine's own batch-32 throughput and single-image latency measured in the
/// same run, so that the ratios compare like with like on a noisy machine.
public struct ServeBenchmark: Sendable {
    /// One wrk run.
    public struct Load: Sendable, Codable {
        public let name: String
        public let connections: Int
        public let seconds: Double
        public let requestsPerSecond: Double
        public let p50Ms: Double
        public let p95Ms: Double
        public let p99Ms: Double
        /// Socket errors and timeouts, and answers other than 2xx.
        public let errors: Int
        public let non2xx: Int
    }

    public struct Report: Sendable, Codable {
        public let model: String
        public let images: Int
        public let engineBatch32ImagesPerSecond: Double
        public let engineSingleImageMs: Double
        /// One connection, one request at a time, every image new: the single-image latency.
        public let idle: Load
        /// Many connections, every image new.
        public let uncached: Load
        /// Paced at half the uncached throughput.
        public let halfLoad: Load
        /// Many connections, a few images the cache already holds.
        public let cached: Load
        public let uncachedToEngine: Double
        public let halfLoadP95ToSingle: Double
    }

    let context: ServiceContext
    let executable: String

    /// `executable` is the `fishops` binary started as the server.
    public init(context: ServiceContext, executable: String) {
        self.context = context
        self.executable = executable
    }

    /// Runs every load for `seconds` each on the JPEG and PNG files under `folder`, serving
    /// `model` (default: the configured model).
    public func run(folder: String, seconds: Double, model: String? = nil) throws -> Report {
        guard let wrk = Self.which("wrk") else {
            throw ServiceError.invalidArgument("wrk is not installed: apt-get install wrk (make loadtest installs it)")
        }
        let classification = ClassificationService(context: context)
        let files = classification.collectFiles([folder]).files
        guard !files.isEmpty else { throw ServiceError.invalidArgument("\(folder): no JPEG or PNG files to send") }
        let engine = try BenchmarkService(context: context).run(model: model, threadCounts: [context.config.threads], folder: nil)
        guard let batch = engine.throughput.first, let single = engine.latency.first else {
            throw ServiceError.failed("the engine benchmark measured nothing")
        }
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("fishops-load-\(UUID().uuidString).lua")
        try Data(PackageResources.classify_load_lua).write(to: script)
        defer { try? FileManager.default.removeItem(at: script) }
        let server = try ServerProcess(executable: executable, home: context.config.home, model: model)
        defer { server.stop() }
        func load(_ name: String, connections: Int, seconds: Double, unique: Bool, delayMs: Double = 0, files: [String]) throws
            -> Load
        {
            try Self.wrk(
                wrk, script: script.path, url: server.url, name: name, connections: connections, seconds: seconds,
                unique: unique, delayMs: delayMs, files: files)
        }
        let idle = try load("idle", connections: 1, seconds: max(seconds / 2, 2), unique: true, files: files)
        let uncached = try load("uncached", connections: 32, seconds: seconds, unique: true, files: files)
        let pacedConnections = 8
        let pause = max(Double(pacedConnections) * 1000 / max(uncached.requestsPerSecond / 2, 1) - idle.p50Ms, 0)
        let halfLoad = try load(
            "half load", connections: pacedConnections, seconds: seconds, unique: true, delayMs: pause, files: files)
        let few = Array(files.prefix(16))
        _ = try load("cache warm-up", connections: 4, seconds: 2, unique: false, files: few)
        let cached = try load("cached", connections: 64, seconds: seconds, unique: false, files: few)
        return Report(
            model: engine.model, images: files.count, engineBatch32ImagesPerSecond: batch.imagesPerSecond,
            engineSingleImageMs: single.medianMs, idle: idle, uncached: uncached, halfLoad: halfLoad, cached: cached,
            uncachedToEngine: uncached.requestsPerSecond / batch.imagesPerSecond,
            halfLoadP95ToSingle: halfLoad.p95Ms / idle.p50Ms)
    }

    private static func wrk(
        _ wrk: String, script: String, url: String, name: String, connections: Int, seconds: Double,
        unique: Bool, delayMs: Double, files: [String]
    ) throws -> Load {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        process.arguments =
            [
                "-t1", "-c\(connections)", "-d\(Int(seconds.rounded(.up)))s", "--timeout", "10s", "-s", script,
                url + "/v1/classify", "--", unique ? "unique" : "same", String(delayMs), UUID().uuidString,
            ] + files
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        struct Summary: Decodable {
            let requests: Int, durationUs: Double, errors: Int, non2xx: Int, p50Us: Double, p95Us: Double, p99Us: Double
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
            let summary = try? decoder.decode(Summary.self, from: Data(line.utf8))
        else {
            throw ServiceError.failed("wrk (\(name)) printed no summary: \(text.suffix(300))")
        }
        return Load(
            name: name, connections: connections, seconds: summary.durationUs / 1e6,
            requestsPerSecond: Double(summary.requests) / (summary.durationUs / 1e6), p50Ms: summary.p50Us / 1000,
            p95Ms: summary.p95Us / 1000, p99Ms: summary.p99Us / 1000, errors: summary.errors, non2xx: summary.non2xx)
    }

    static func which(_ program: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// `fishops serve --port 0` started as a child process; stopped with SIGINT (no drain).
final class ServerProcess {
    let url: String
    private let process: Process

    init(executable: String, home: URL, model: String?) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["serve", "--port", "0"] + (model.map { ["--model", $0] } ?? [])
        process.environment = ProcessInfo.processInfo.environment.merging(["FISHOPS_HOME": home.path]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        var seen = Data()
        while !String(decoding: seen, as: UTF8.self).contains("\n") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty {
                throw ServiceError.failed("fishops serve ended before listening (is a model registered? try fishops serve)")
            }
            seen.append(chunk)
        }
        let line = String(decoding: seen, as: UTF8.self)
        guard let range = line.range(of: "http://") else { throw ServiceError.failed("fishops serve said: \(line)") }
        url = String(line[range.lowerBound...].prefix { !$0.isWhitespace })
        output.fileHandleForReading.readabilityHandler = { _ = $0.availableData }
    }

    func stop() {
        process.interrupt()
        process.waitUntilExit()
    }
}
