import FishServices
import FishStore
import FishTestSupport
import Foundation
import Testing

/// Servers as the store records them and as the configuration names them: alive, stale, gone by
/// heartbeat or by a dead process, forgotten, and named by URL with clear errors for bad ones.
@Suite struct ServingServiceTests {
    func context(_ environment: [String: String] = [:]) throws -> ServiceContext {
        var environment = environment
        environment["FISHOPS_HOME"] = try Fixtures.temporaryDirectory().path
        return try ServiceContext(config: try FishConfig.fromEnvironment(environment), environment: ["FISHOPS_USER": "tester"])
    }

    /// The pid of a process that has exited and been waited for.
    func exitedPid() throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return Int(process.processIdentifier)
    }

    @Test func announcedServersLiveUntilTheyWithdraw() throws {
        let context = try context()
        let service = ServingService(context: context)
        let announcement = try service.announce(url: "http://127.0.0.1:8080", model: "fish", alias: "production", version: 3)
        var servers = try service.servers(poll: false)
        #expect(servers.count == 1 && servers.first?.state == .alive)
        #expect(
            servers.first?.record?.pid == Int(getpid()) && servers.first?.record?.version == 3
                && servers.first?.record?.alias == "production")
        try announcement.beat(version: 4)
        #expect(try service.servers(poll: false).first?.record?.version == 4)
        // Forgotten while alive: the next heartbeat records it again.
        #expect(try service.forget(url: "http://127.0.0.1:8080/"))
        #expect(try service.servers(poll: false).isEmpty)
        try announcement.beat(version: 4)
        servers = try service.servers(poll: false)
        #expect(servers.map(\.url) == ["http://127.0.0.1:8080"])
        announcement.withdraw()
        #expect(try service.servers(poll: false).isEmpty)
        #expect(try !service.forget(url: "http://127.0.0.1:8080"))
    }

    @Test func silentServersTurnStaleThenGoneAndDeadOnesGoneAtOnce() throws {
        let context = try context()
        let service = ServingService(context: context)
        _ = try service.announce(url: "http://127.0.0.1:1", model: "fish", alias: "production", version: 1)
        let now = Date()
        #expect(
            try service.servers(poll: false, now: now.addingTimeInterval(ServingService.staleAfter + 1)).first?.state == .stale)
        #expect(try service.servers(poll: false, now: now.addingTimeInterval(ServingService.goneAfter + 1)).first?.state == .gone)

        let dead = try service.announce(url: "http://127.0.0.1:2", model: "fish", alias: "production", version: 1)
        dead.withdraw()
        let pid = try exitedPid()
        let host = ProcessInfo.processInfo.hostName
        try context.store.announceServer(
            ServerRecord(
                url: "http://127.0.0.1:2", host: host, pid: pid, model: "fish", alias: "production",
                version: 1, startedAt: now, heartbeatAt: now))
        // A process of another machine cannot be checked from here: its heartbeat decides.
        try context.store.announceServer(
            ServerRecord(
                url: "http://elsewhere:8080", host: "elsewhere", pid: pid, model: "fish",
                alias: "production", version: 1, startedAt: now, heartbeatAt: now))
        let states = Dictionary(uniqueKeysWithValues: try service.servers(poll: false, now: now).map { ($0.url, $0.state) })
        #expect(states == ["http://127.0.0.1:1": .alive, "http://127.0.0.1:2": .gone, "http://elsewhere:8080": .alive])
    }

    @Test func pollingADeadAddressSaysWhatFailedAndSkipsGoneServers() throws {
        let context = try context(["FISHOPS_SERVERS": "http://127.0.0.1:1/, http://127.0.0.1:1"])
        let service = ServingService(context: context)
        let old = Date().addingTimeInterval(-3600)
        try context.store.announceServer(
            ServerRecord(
                url: "http://127.0.0.1:3", host: "elsewhere", pid: 1, model: "fish",
                alias: "production", version: 1, startedAt: old, heartbeatAt: old))
        let servers = try service.servers()
        #expect(servers.map(\.url) == ["http://127.0.0.1:3", "http://127.0.0.1:1"], "a URL named twice is listed once")
        #expect(servers[0].state == .gone && servers[0].problem == nil, "a gone server is not polled")
        #expect(servers[1].state == .unreachable && servers[1].stats == nil)
        #expect(servers[1].problem?.contains("http://127.0.0.1:1/v1/stats") == true)
        #expect(try service.servers(poll: false, only: "http://127.0.0.1:1/").map(\.url) == ["http://127.0.0.1:1"])
    }

    @Test func serversAreNamedInTheEnvironmentAndTheConfigFile() throws {
        let home = try Fixtures.temporaryDirectory()
        try "# watched\nserver = http://fish-a:8080/\n\nserver = \"https://fish-b\"\n".write(
            to: home.appendingPathComponent("fishops.conf"),
            atomically: true, encoding: .utf8)
        let config = try FishConfig.fromEnvironment(["FISHOPS_HOME": home.path, "FISHOPS_SERVERS": "http://fish-c:9000"])
        #expect(config.servers == ["http://fish-c:9000", "http://fish-a:8080", "https://fish-b"])

        try "server = http://fish-a:8080\nmlflow = yes\n".write(
            to: home.appendingPathComponent("fishops.conf"), atomically: true, encoding: .utf8)
        #expect(
            throws: ServiceError.badConfiguration(
                "\(home.path)/fishops.conf line 2: unknown key mlflow (known: server, mlflow_uri)")
        ) {
            _ = try FishConfig.fromEnvironment(["FISHOPS_HOME": home.path])
        }
        // The MLflow server: the file's, unless the environment names one.
        try "mlflow_uri = http://mlflow.lan:5000/\n".write(
            to: home.appendingPathComponent("fishops.conf"), atomically: true, encoding: .utf8)
        #expect(try FishConfig.fromEnvironment(["FISHOPS_HOME": home.path]).mlflowURI == "http://mlflow.lan:5000")
        let overridden = try FishConfig.fromEnvironment(["FISHOPS_HOME": home.path, "FISHOPS_MLFLOW_URI": "https://ml.example"])
        #expect(overridden.mlflowURI == "https://ml.example")
        #expect(throws: ServiceError.self) {
            _ = try FishConfig.fromEnvironment(["FISHOPS_HOME": home.path, "FISHOPS_MLFLOW_URI": "mlflow.lan:5000"])
        }
        #expect(try FishConfig.fromEnvironment(["FISHOPS_HOME": try Fixtures.temporaryDirectory().path]).mlflowURI == nil)
        try "server http://fish-a\n".write(to: home.appendingPathComponent("fishops.conf"), atomically: true, encoding: .utf8)
        #expect(throws: ServiceError.badConfiguration("\(home.path)/fishops.conf line 1: expected key = value")) {
            _ = try FishConfig.fromEnvironment(["FISHOPS_HOME": home.path])
        }
        try FileManager.default.removeItem(at: home.appendingPathComponent("fishops.conf"))
        for bad in ["fish-a:8080", "ftp://fish-a", "http://", "http://fish?x=1"] {
            #expect(
                throws: ServiceError.badConfiguration(
                    "FISHOPS_SERVERS: \(bad.debugDescription) is not a server URL such as http://host:8080")
            ) {
                _ = try FishConfig.fromEnvironment(["FISHOPS_HOME": home.path, "FISHOPS_SERVERS": bad])
            }
        }
    }
}
