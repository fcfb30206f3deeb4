import FishHTTPClient
import FishTestSupport
import Foundation
import Testing

/// A real `mlflow server` from PyPI (`make test-deps`) on a loopback port: a SQLite backend and
/// proxied artifacts (`--serve-artifacts`) in a folder of its own, stopped when the test ends.
final class MLflowServer {
    /// The `mlflow` command of the test venv.
    static let executable: String? = Fixtures.python.map {
        URL(fileURLWithPath: $0).deletingLastPathComponent().appendingPathComponent("mlflow").path
    }.flatMap { FileManager.default.isExecutableFile(atPath: $0) ? $0 : nil }

    /// Whether the venv has the basic-auth app's packages (`mlflow[auth]`).
    static var hasAuthApp: Bool { Fixtures.pythonHas("flask_wtf") }

    let port: Int
    let folder: URL
    /// The admin password of a server started with MLflow's basic-auth app.
    let adminPassword: String?
    /// Whether it speaks HTTPS, with a self-signed certificate made here.
    let tls: Bool
    private var process: Process?
    private let log: URL

    var url: String { "\(tls ? "https" : "http")://127.0.0.1:\(port)" }

    /// Starts a server and waits until it answers.
    init(adminPassword: String? = nil, tls: Bool = false) throws {
        port = try freeLoopbackPort()
        folder = try Fixtures.temporaryDirectory()
        log = folder.appendingPathComponent("server.log")
        self.adminPassword = adminPassword
        self.tls = tls
        try start()
    }

    deinit { stop() }

    /// Starts the server again on the same port and database (after `stop`).
    func start() throws {
        guard let executable = Self.executable else { throw CocoaError(.fileNoSuchFile) }
        // In a process group of its own, which `stop` ends whole: the server runs its workers as children.
        guard let python = Fixtures.python else { throw CocoaError(.fileNoSuchFile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments =
            [
                "-c", "import os, sys; os.setpgid(0, 0); os.execv(sys.argv[1], sys.argv[1:])", executable, "server", "--host",
                "127.0.0.1", "--port", "\(port)", "--workers", "1",
                "--backend-store-uri", "sqlite:///\(folder.path)/mlflow.db", "--serve-artifacts",
                "--artifacts-destination", folder.appendingPathComponent("artifacts").path,
            ] + (adminPassword == nil ? [] : ["--app-name", "basic-auth"])
            + (tls ? ["--uvicorn-opts", try certificateOptions()] : [])
        var environment = ProcessInfo.processInfo.environment
        // No background job runner (GenAI evaluation jobs: several processes, each of a few hundred MB).
        environment["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
        if let adminPassword {
            environment["MLFLOW_AUTH_ADMIN_PASSWORD"] = adminPassword
            environment["MLFLOW_FLASK_SERVER_SECRET_KEY"] = UUID().uuidString
            environment["MLFLOW_AUTH_CONFIG_PATH"] = try authConfig().path
        }
        process.environment = environment
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        output.seekToEndOfFile()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(120)
        var probe = HTTPClient()
        probe.verifiesTLS = false
        while Date() < deadline {
            if (try? probe.get(url + "/health")) != nil { return }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.25)
        }
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        stop()
        throw CocoaError(
            .fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "mlflow server did not start: \(text.suffix(2000))"])
    }

    /// uvicorn's options for a self-signed certificate for 127.0.0.1 (openssl).
    private func certificateOptions() throws -> String {
        let key = folder.appendingPathComponent("key.pem").path
        let certificate = folder.appendingPathComponent("cert.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1", "-subj",
            "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0, "openssl could not make a certificate")
        return "--ssl-keyfile \(key) --ssl-certfile \(certificate)"
    }

    /// The basic-auth app's configuration: its users database beside the tracking one.
    private func authConfig() throws -> URL {
        let file = folder.appendingPathComponent("basic_auth.ini")
        let text = """
            [mlflow]
            default_permission = READ
            database_uri = sqlite:///\(folder.path)/basic_auth.db
            admin_username = admin
            admin_password = \(adminPassword ?? "")
            authorization_function = mlflow.server.auth:authenticate_request_basic_auth

            """
        try Data(text.utf8).write(to: file)
        return file
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s); its data stays for `start`.
    func stop() {
        guard let process else { return }
        // The whole process group the server leads: it and its workers, until none is left.
        let group = process.processIdentifier
        kill(-group, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while kill(-group, 0) == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        kill(-group, SIGKILL)
        process.waitUntilExit()
        let reaped = Date().addingTimeInterval(5)  // a zombie nobody reaps still counts as a member
        while kill(-group, 0) == 0 && Date() < reaped { Thread.sleep(forTimeInterval: 0.1) }
        self.process = nil
    }

    /// The points of one metric of a run, by step (decoded exactly: JSONSerialization rounds some doubles).
    func metricHistory(run: String, key: String) throws -> [(step: Int, value: Double)] {
        struct History: Decodable {
            struct Point: Decodable {
                let step: Int?
                let value: Double
            }
            let metrics: [Point]?
        }
        var components = URLComponents()
        components.queryItems = [URLQueryItem(name: "run_id", value: run), URLQueryItem(name: "metric_key", value: key)]
        let reply = try client.get(url + "/api/2.0/mlflow/metrics/get-history?" + (components.percentEncodedQuery ?? ""))
        let history = try JSONDecoder().decode(History.self, from: reply.body)
        return (history.metrics ?? []).map { ($0.step ?? 0, $0.value) }.sorted { $0.step < $1.step }
    }

    /// A client of its REST API, as the admin when it has one.
    var client: HTTPClient {
        var client = HTTPClient(credentials: adminPassword.map { .basic(user: "admin", password: $0) })
        client.headers = ["Content-Type": "application/json"]
        client.verifiesTLS = !tls
        return client
    }

    /// `GET /api/2.0/mlflow/<endpoint>?query` as JSON.
    func get(_ endpoint: String, _ query: [String: String] = [:]) throws -> [String: Any] {
        var components = URLComponents()
        components.queryItems = query.map { URLQueryItem(name: $0.key, value: $0.value) }
        let reply = try client.get(url + "/api/2.0/mlflow/" + endpoint + "?" + (components.percentEncodedQuery ?? ""))
        return try #require(try JSONSerialization.jsonObject(with: reply.body) as? [String: Any])
    }

    /// `POST /api/2.0/mlflow/<endpoint>` with a JSON body, as JSON.
    func post(_ endpoint: String, _ body: [String: Any]) throws -> [String: Any] {
        let data = try JSONSerialization.data(withJSONObject: body)
        let reply = try client.send("POST", url + "/api/2.0/mlflow/" + endpoint, body: data, contentType: "application/json")
        return try #require(try JSONSerialization.jsonObject(with: reply.body) as? [String: Any])
    }

    /// The runs of experiment `name` whose tags match `filter` (all of them when nil).
    func runs(experiment name: String, filter: String? = nil) throws -> [[String: Any]] {
        let experiment = try get("experiments/get-by-name", ["experiment_name": name])
        let id = try #require((experiment["experiment"] as? [String: Any])?["experiment_id"] as? String)
        var body: [String: Any] = ["experiment_ids": [id], "max_results": 1000]
        if let filter { body["filter"] = filter }
        return try post("runs/search", body)["runs"] as? [[String: Any]] ?? []
    }
}

extension [String: Any] {
    /// A run's `data.<field>` key-value pairs (params, tags) as a dictionary.
    func pairs(_ field: String) -> [String: String] {
        let list = (self["data"] as? [String: Any])?[field] as? [[String: Any]] ?? []
        var pairs: [String: String] = [:]
        for item in list {
            if let key = item["key"] as? String { pairs[key] = item["value"] as? String ?? "" }
        }
        return pairs
    }

    /// A run's `info.<field>`.
    func info(_ field: String) -> String? { (self["info"] as? [String: Any])?[field] as? String }
}
