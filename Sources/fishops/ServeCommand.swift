import ArgumentParser
import FishServer
import FishServices
import Foundation
import Synchronization

/// `fishops serve`: the HTTP inference API (see docs/serving.md).
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a model over HTTP, following its alias (production by default).",
        discussion:
            "Routes: POST /v1/classify, POST /v1/classify/batch, GET /v1/models, /healthz, /readyz, /metrics, and an upload page at /. SIGTERM drains the connections, then stops gracefully; SIGINT or a second SIGTERM skips the drain."
    )

    @Option(help: "Address to bind (loopback unless told otherwise).") var host = "127.0.0.1"
    @Option(help: "Port (0 picks a free one).") var port = 8080
    @Option(help: "Model to serve (default: the configured model); models:/NAME@ALIAS follows an MLflow alias.")
    var model: String?
    @Option(help: "Alias followed; the served version changes when it moves.") var alias = "production"
    @Option(help: "Answers kept in the LRU cache (0 turns it off).") var cacheEntries = 10_000
    @Option(help: "Most images in one forward pass.") var maxBatch = 32
    @Option(help: "Milliseconds the first request of a batch waits for more.") var batchWaitMs = 0
    @Option(help: "Images waiting for the engine before requests get 503.") var maxQueue = 256
    @Option(help: "Largest request body in bytes.") var maxBodyBytes = 20 * 1024 * 1024
    @Option(help: "Seconds between checks of the alias.") var reloadSeconds: Double = 3
    @Option(help: "File holding the token the inference routes require (else $FISHOPS_SERVE_TOKEN); required off loopback.")
    var tokenFile: String?
    @Option(help: "File holding the admin token (else $FISHOPS_SERVE_ADMIN_TOKEN); it also grants inference.")
    var adminTokenFile: String?
    @Flag(help: "Require the token on /metrics too.") var protectMetrics = false
    @Flag(
        help:
            "Also export the request metrics under their old names (hb_requests, hb_request_errors, http_server_request_duration, http_server_active_requests); deprecated, see docs/serving.md."
    )
    var legacyMetricNames = false
    @Option(help: "Megabytes the prediction log under $FISHOPS_HOME/predictions may hold, rotated files included (0: no log).")
    var predictionLogMb = 64
    @Option(help: "Share of answers written to the prediction log, from 0 to 1.") var predictionSample = 1.0
    @Option(help: "Images kept beside the prediction log: none, or low-confidence (top-1 below 0.5).") var keepImages = "none"
    @Option(help: "Megabytes the kept images may hold (the oldest are deleted beyond it).") var keptImagesMb = 256
    @Option(help: "Seconds between drift checks of the recent uncached answers against the served version's training data.")
    var driftCheckSeconds: Double = 15
    @Option(help: "Most parts in one multipart body.") var maxParts = 256
    @Option(help: "Seconds a client may take to send a request's body (408 after it).") var bodyTimeoutSeconds: Double = 60
    @Option(help: "Seconds a connection may stay open with no complete request head arriving (closed after it).")
    var idleTimeoutSeconds: Double = 30
    @Option(
        help:
            "Seconds SIGTERM lets clients finish on their open connections, each answer closing its connection, before stopping (0: stop at once)."
    )
    var drainSeconds: Double = 5

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
        guard maxBatch >= 1, maxQueue >= 1, batchWaitMs >= 0, cacheEntries >= 0, maxBodyBytes >= 1, reloadSeconds > 0,
            maxParts >= 1,
            bodyTimeoutSeconds > 0, idleTimeoutSeconds > 0, drainSeconds >= 0, driftCheckSeconds > 0, predictionLogMb >= 0,
            keptImagesMb >= 0
        else {
            throw ValidationError(
                "--max-batch, --max-queue, --max-body-bytes, --max-parts, --reload-seconds and the timeouts must be positive; --cache-entries, --batch-wait-ms, --drain-seconds, --prediction-log-mb and --kept-images-mb not negative"
            )
        }
        guard (0...1).contains(predictionSample) else { throw ValidationError("--prediction-sample must be from 0 to 1") }
        guard ["none", "low-confidence"].contains(keepImages) else {
            throw ValidationError("--keep-images must be none or low-confidence")
        }
        if keepImages != "none", predictionLogMb == 0 {
            throw ValidationError("--keep-images needs the prediction log (--prediction-log-mb above 0)")
        }
    }

    func run() throws {
        let context = try makeContext()
        let name = model ?? context.config.defaultModel
        var options = InferenceAPI.Options()
        options.maxPixels = context.config.maxPixels
        options.cacheEntries = cacheEntries
        options.maxBatch = maxBatch
        options.maxWait = .milliseconds(batchWaitMs)
        options.maxQueue = maxQueue
        options.maxBodyBytes = maxBodyBytes
        options.maxParts = maxParts
        options.auth = try serverAuth()
        options.protectMetrics = protectMetrics
        options.legacyMetricNames = legacyMetricNames
        options.bodyTimeout = .milliseconds(Int64(bodyTimeoutSeconds * 1000))
        options.idleTimeout = .milliseconds(Int64(idleTimeoutSeconds * 1000))
        options.drainTimeout = .milliseconds(Int64(drainSeconds * 1000))
        options.driftInterval = .milliseconds(Int64(driftCheckSeconds * 1000))
        if predictionLogMb > 0, predictionSample > 0 {
            let log = PredictionLog(home: context.config.home, capBytes: predictionLogMb * 1_048_576)
            options.predictionLog = try reporting {
                try PredictionLogWriter(
                    log: log, keptImagesCapBytes: keepImages == "low-confidence" ? keptImagesMb * 1_048_576 : nil)
            }
            options.predictionSample = predictionSample
        }
        let (host, port, alias, reloadSeconds) = (host, port, alias, reloadSeconds)
        let failure = Mutex<(any Error)?>(nil)
        let finished = DispatchSemaphore(value: 0)
        Task {
            do {
                try await InferenceServer.run(
                    context: context, model: name, alias: alias, host: host, port: port, options: options,
                    reloadSeconds: reloadSeconds
                ) { bound in
                    FileHandle.standardOutput.write(Data("fishops serve: listening on http://\(host):\(bound)\n".utf8))
                }
            } catch {
                failure.withLock { $0 = error }
            }
            finished.signal()
        }
        finished.wait()
        if let error = failure.withLock({ $0 }) { throw fail(error) }
    }

    /// The tokens from the files or the environment; nil when none is given.
    private func serverAuth() throws -> ServerAuth? {
        let environment = ProcessInfo.processInfo.environment
        do {
            let inference =
                try tokenFile.map(ServerAuth.token(fromFile:))
                ?? environment["FISHOPS_SERVE_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            let admin =
                try adminTokenFile.map(ServerAuth.token(fromFile:))
                ?? environment["FISHOPS_SERVE_ADMIN_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            guard let inference else {
                if admin != nil {
                    throw ValidationError("an admin token needs an inference token too (--token-file or FISHOPS_SERVE_TOKEN)")
                }
                if protectMetrics {
                    throw ValidationError("--protect-metrics needs a token (--token-file or FISHOPS_SERVE_TOKEN)")
                }
                return nil
            }
            return try ServerAuth(inferenceToken: inference, adminToken: admin)
        } catch let error as ServerAuthError {
            throw ValidationError("\(error)")
        }
    }
}
