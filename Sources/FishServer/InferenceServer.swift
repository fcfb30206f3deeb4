import FishServices
import Foundation
import Hummingbird
import Logging
import NIOCore

/// `fishops serve`: the inference API on one address, following alias moves without a restart.
public enum InferenceServer {
    /// Serves until SIGTERM or SIGINT, then stops accepting connections, finishes the requests in
    /// flight and returns. Checks the alias every `reloadSeconds`; `ready` gets the bound port
    /// (useful with port 0).
    public static func run(context: ServiceContext, model: String, alias: String, host: String, port: Int,
                           options: InferenceAPI.Options = .init(), reloadSeconds: Double = 3,
                           ready: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let api = InferenceAPI(context: context, model: model, alias: alias, options: options)
        defer { api.shutdown() }
        var logger = Logger(label: "fishops.serve")
        logger.logLevel = .info
        if let version = try api.reload() { logger.info("serving \(model) v\(version) (alias \(alias))") }
        let idleTimeout = TimeAmount.nanoseconds(Int64(options.idleTimeout.seconds * 1e9))
        let app = Application(router: api.router(), server: .http1(configuration: .init(idleTimeout: idleTimeout)), configuration: .init(address: .hostname(host, port: port), serverName: "fishops"),
                              onServerRunning: { channel in ready(channel.localAddress?.port ?? port) }, logger: logger)
        let watcher = Task { [logger] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(reloadSeconds))
                do {
                    if let version = try api.reload() { logger.info("alias \(alias) moved: now serving \(model) v\(version)") }
                } catch {
                    logger.error("reload failed, still serving the previous version: \(error)")
                }
            }
        }
        defer { watcher.cancel() }
        try await app.runService()
        logger.info("stopped accepting requests; finishing the queued ones")
    }
}
