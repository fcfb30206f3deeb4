public import FishServices
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `fishops serve`: the inference API on one address, following alias moves without a restart.
public enum InferenceServer {
    /// Serves until SIGTERM or SIGINT. SIGTERM first drains the connections (see `ConnectionDrain`)
    /// for up to `options.drainTimeout`; SIGINT, or a second SIGTERM, skips that. Then it stops
    /// accepting connections, finishes the requests in flight and returns. Checks the alias every
    /// `reloadSeconds`. While it answers, it is recorded in the store (see `ServingService`),
    /// with a heartbeat, and removed when it stops. `ready` gets the bound port (useful with port 0).
    public static func run(
        context: ServiceContext, model: String, alias: String, host: String, port: Int,
        options: InferenceAPI.Options = .init(), reloadSeconds: Double = 3,
        ready: @escaping @Sendable (Int) -> Void = { _ in }
    ) async throws {
        guard options.auth != nil || isLoopback(host) else { throw ServerSetupError.tokenRequired(host: host) }
        let api = try InferenceAPI(context: context, model: model, alias: alias, options: options)
        defer { api.shutdown() }
        var logger = Logger(label: "fishops.serve")
        logger.logLevel = .info
        if let version = try api.reload() { logger.info("serving \(model) v\(version) (alias \(alias))") }
        let announcement = Mutex<Announcement?>(nil)
        let announce: @Sendable (Int) -> Void = { [logger] boundPort in
            do {
                let url = "http://\(announcedHost(host)):\(boundPort)"
                options.predictionLog?.name(server: url)
                let made = try ServingService(context: context).announce(
                    url: url, model: model, alias: alias, version: api.servedVersion)
                announcement.withLock { $0 = made }
            } catch {
                logger.warning("cannot record this server in the store (fishops servers will not list it): \(error)")
            }
        }
        defer { announcement.withLock { $0?.withdraw() } }
        let idleTimeout = TimeAmount.nanoseconds(Int64(options.idleTimeout.seconds * 1e9))
        let app = Application(
            router: api.router(),
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [ContinueHandler(), api.drain.handler()], idleTimeout: idleTimeout)),
            configuration: .init(address: .hostname(host, port: port), serverName: "fishops"),
            onServerRunning: { channel in
                let boundPort = channel.localAddress?.port ?? port
                announce(boundPort)
                ready(boundPort)
            }, logger: logger)
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
        let heartbeat = Task { [logger] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(ServingService.heartbeatInterval))
                guard !Task.isCancelled, let made = announcement.withLock({ $0 }) else { continue }
                do { try made.beat(version: api.servedVersion) } catch { logger.warning("heartbeat not recorded: \(error)") }
            }
        }
        defer {
            watcher.cancel()
            heartbeat.cancel()
        }
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: app)], gracefulShutdownSignals: [.sigint], logger: logger))
        try await withThrowingDiscardingTaskGroup { tasks in
            tasks.addTask { [logger] in
                await stopOnSIGTERM(group, drain: api.drain, timeout: options.drainTimeout, logger: logger)
            }
            try await group.run()
            tasks.cancelAll()
        }
        logger.info("stopped accepting requests; finishing the queued ones")
    }

    /// On SIGTERM: drains the connections, then stops `group`; a second SIGTERM stops it at once.
    private static func stopOnSIGTERM(_ group: ServiceGroup, drain: ConnectionDrain, timeout: Duration, logger: Logger) async {
        await withDiscardingTaskGroup { tasks in
            for await _ in await UnixSignalsSequence(trapping: .sigterm) {
                if drain.isDraining {
                    logger.info("second SIGTERM: stopping without waiting for the open connections")
                    break
                }
                drain.start()
                logger.info(
                    "SIGTERM: draining (/readyz answers 503, every answer closes its connection) until no connection is open, for at most \(timeout)"
                )
                tasks.addTask {
                    await drain.waitUntilClosed(timeout: timeout)
                    if !Task.isCancelled { await group.triggerGracefulShutdown() }
                }
            }
            tasks.cancelAll()
            if !Task.isCancelled { await group.triggerGracefulShutdown() }
        }
    }

    /// The host name other machines reach a server bound to `host` by: this machine's name for a
    /// wildcard address, IPv6 literals in brackets.
    static func announcedHost(_ host: String) -> String {
        if ["0.0.0.0", "::", "[::]", ""].contains(host) { return ProcessInfo.processInfo.hostName }
        return host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
    }

    /// Whether `host` is reachable only from this machine.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}

/// Why `fishops serve` refuses to start.
public enum ServerSetupError: Error, CustomStringConvertible {
    case tokenRequired(host: String)

    public var description: String {
        switch self {
        case let .tokenRequired(host):
            return
                "serving on \(host) opens the API to the network: give a token with --token-file FILE or FISHOPS_SERVE_TOKEN (see docs/security.md), or bind 127.0.0.1 behind a proxy"
        }
    }
}
