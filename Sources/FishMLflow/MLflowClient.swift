public import FishHTTPClient
public import Foundation

/// A client of a real MLflow tracking server and model registry through its REST API
/// (`/api/2.0/mlflow/...`, artifacts through `/api/2.0/mlflow-artifacts/...`, which a server
/// started with `--serve-artifacts` offers). Calls block their thread.
public struct MLflowClient: Sendable {
    /// The server's base URL, without a trailing slash.
    public let baseURL: String
    var http: HTTPClient

    /// A client of the server at `settings.uri`, with its credentials and TLS setting.
    public init(_ settings: MLflowSettings) {
        baseURL = settings.uri
        http = HTTPClient(credentials: settings.credentials)
        http.verifiesTLS = !settings.insecureTLS
        http.timeout = .seconds(30)
        http.connectTimeout = .seconds(5)
    }

    // MARK: Experiments and runs

    /// The id of the experiment named `name`, created when the server has none.
    public func experimentID(named name: String) throws(MLflowError) -> String {
        if let found = try findExperiment(name) { return found }
        do {
            let reply: ExperimentCreated = try post("experiments/create", ["name": name])
            return reply.experimentId
        } catch  where error.code == "RESOURCE_ALREADY_EXISTS" {  // created meanwhile by someone else
            if let found = try findExperiment(name) { return found }
            throw error
        }
    }

    private func findExperiment(_ name: String) throws(MLflowError) -> String? {
        do {
            let reply: ExperimentReply = try get("experiments/get-by-name", ["experiment_name": name])
            return reply.experiment.experimentId
        } catch  where error.code == "RESOURCE_DOES_NOT_EXIST" {
            return nil
        }
    }

    /// The runs of `experimentID` matching an MLflow search `filter` (all pages).
    public func searchRuns(experimentID: String, filter: String) throws(MLflowError) -> [MLflowRun] {
        var runs: [MLflowRun] = []
        var token: String?
        repeat {
            let request = RunSearch(experimentIds: [experimentID], filter: filter, maxResults: 1000, pageToken: token)
            let reply: RunSearchReply = try post("runs/search", request)
            runs += (reply.runs ?? []).map(\.info)
            token = reply.nextPageToken.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return runs
    }

    /// Creates a run.
    public func createRun(
        experimentID: String, name: String, startTime: Date, user: String, tags: [String: String]
    ) throws(MLflowError) -> MLflowRun {
        let request = RunCreate(
            experimentId: experimentID, runName: name, startTime: Self.milliseconds(startTime), userId: user,
            tags: tags.sorted { $0.key < $1.key }.map { KeyValue(key: $0.key, value: $0.value) })
        let reply: RunReply = try post("runs/create", request)
        return reply.run.info
    }

    /// Sets a run's status and end time.
    public func endRun(_ runID: String, status: String, endTime: Date) throws(MLflowError) {
        let request = RunUpdate(runId: runID, status: status, endTime: Self.milliseconds(endTime))
        let _: Empty = try post("runs/update", request)
    }

    /// Logs metrics, params and tags with `runs/log-batch`, split to stay within its limits (1,000
    /// items, 100 params and 100 tags per request, and a body well under 1 MB).
    public func logBatch(
        _ runID: String, metrics: [MLflowMetric] = [], params: [String: String] = [:], tags: [String: String] = [:]
    ) throws(MLflowError) {
        var pendingParams = params.sorted { $0.key < $1.key }.map { KeyValue(key: $0.key, value: $0.value) }[...]
        var pendingTags = tags.sorted { $0.key < $1.key }.map { KeyValue(key: $0.key, value: $0.value) }[...]
        var pendingMetrics = metrics[...]
        while !pendingParams.isEmpty || !pendingTags.isEmpty || !pendingMetrics.isEmpty {
            var batch = LogBatch(runId: runID, metrics: [], params: [], tags: [])
            var bytes = 0
            func fits(_ size: Int) -> Bool { batch.count < 1000 && bytes + size < 900_000 }
            while let param = pendingParams.first, batch.params.count < 100, fits(param.size) {
                batch.params.append(param)
                bytes += param.size
                pendingParams.removeFirst()
            }
            while let tag = pendingTags.first, batch.tags.count < 100, fits(tag.size) {
                batch.tags.append(tag)
                bytes += tag.size
                pendingTags.removeFirst()
            }
            while let metric = pendingMetrics.first, fits(metric.key.utf8.count + 80) {
                batch.metrics.append(metric)
                bytes += metric.key.utf8.count + 80
                pendingMetrics.removeFirst()
            }
            guard batch.count > 0 else {
                throw MLflowError(server: baseURL, code: "INVALID_PARAMETER_VALUE", message: "one value is larger than 900 kB")
            }
            let _: Empty = try post("runs/log-batch", batch)
        }
    }

    /// Uploads `data` as `path` under a run's (or any) `mlflow-artifacts:` location.
    public func uploadArtifact(_ data: Data, to path: String, under root: String) throws(MLflowError) {
        let url = try artifactURL(root: root, path: path)
        do { _ = try http.send("PUT", url, body: data, contentType: "application/octet-stream") } catch {
            throw MLflowError(server: baseURL, error)
        }
    }

    /// Uploads the file at `file`, streamed from disk.
    public func uploadArtifact(file: URL, to path: String, under root: String) throws(MLflowError) {
        let url = try artifactURL(root: root, path: path)
        do { _ = try http.upload(file, to: url) } catch { throw MLflowError(server: baseURL, error) }
    }

    /// The proxied-artifact URL of `path` under `root` (`mlflow-artifacts:/1/<run>/artifacts`, or
    /// `mlflow-artifacts://host:port/...`).
    func artifactURL(root: String, path: String) throws(MLflowError) -> String {
        let relative = try artifactComponents(root) + path.split(separator: "/").map(String.init)
        let escaped = relative.filter { $0 != "." && $0 != ".." }.map {
            $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? $0
        }
        return baseURL + "/api/2.0/mlflow-artifacts/artifacts/" + escaped.joined(separator: "/")
    }

    /// The path of an `mlflow-artifacts:` location below the server's artifact root.
    private func artifactComponents(_ root: String) throws(MLflowError) -> [String] {
        guard root.hasPrefix("mlflow-artifacts:") else {
            throw MLflowError(
                server: baseURL, code: "UNSUPPORTED_ARTIFACT_STORE",
                message: "artifacts go to \(root), which FishOps cannot reach; start the server with --serve-artifacts")
        }
        var rest = root.dropFirst("mlflow-artifacts:".count)
        if rest.hasPrefix("//") { rest = rest.dropFirst(2).drop { $0 != "/" } }
        return rest.split(separator: "/").map(String.init).filter { $0 != "." && $0 != ".." }
    }

    // MARK: The registry

    /// Creates registered model `name` unless the server has it.
    public func ensureRegisteredModel(_ name: String) throws(MLflowError) {
        do {
            let _: Empty = try post("registered-models/create", ["name": name])
        } catch  where error.code == "RESOURCE_ALREADY_EXISTS" {}
    }

    /// Every version of registered model `name`.
    public func modelVersions(_ name: String) throws(MLflowError) -> [MLflowModelVersion] {
        var versions: [MLflowModelVersion] = []
        var token: String?
        repeat {
            var query = ["filter": "name='\(name.replacingOccurrences(of: "'", with: "\\'"))'", "maxResults": "1000"]
            if let token { query["pageToken"] = token }
            let reply: VersionSearchReply = try get("model-versions/search", query)
            versions += reply.modelVersions ?? []
            token = reply.nextPageToken.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return versions
    }

    /// Creates a version of `name` from the artifacts at `source`; returns MLflow's version number.
    public func createModelVersion(
        _ name: String, source: String, runID: String?, tags: [String: String]
    ) throws(MLflowError) -> String {
        let request = VersionCreate(
            name: name, source: source, runId: runID,
            tags: tags.sorted { $0.key < $1.key }.map { KeyValue(key: $0.key, value: $0.value) })
        let reply: VersionReply = try post("model-versions/create", request)
        return reply.modelVersion.version
    }

    /// Sets a tag of a model version.
    public func setVersionTag(_ name: String, version: String, key: String, value: String) throws(MLflowError) {
        let _: Empty = try post("model-versions/set-tag", ["name": name, "version": version, "key": key, "value": value])
    }

    /// Points `alias` of `name` at `version`.
    public func setAlias(_ name: String, alias: String, version: String) throws(MLflowError) {
        let _: Empty = try post("registered-models/alias", ["name": name, "alias": alias, "version": version])
    }

    /// The version `alias` of `name` points at.
    public func version(_ name: String, alias: String) throws(MLflowError) -> MLflowModelVersion {
        let reply: VersionReply = try get("registered-models/alias", ["name": name, "alias": alias])
        return reply.modelVersion
    }

    /// Version `version` of `name`.
    public func version(_ name: String, number version: String) throws(MLflowError) -> MLflowModelVersion {
        let reply: VersionReply = try get("model-versions/get", ["name": name, "version": version])
        return reply.modelVersion
    }

    /// The files under `root` (an `mlflow-artifacts:` location), as paths relative to it, with
    /// their sizes; folders are listed through.
    public func artifactFiles(under root: String) throws(MLflowError) -> [(path: String, size: Int)] {
        let base = try artifactComponents(root).joined(separator: "/")
        var files: [(path: String, size: Int)] = []
        var folders = [""]
        while let folder = folders.popLast() {
            let reply: ArtifactListing = try getJSON(
                baseURL + "/api/2.0/mlflow-artifacts/artifacts", ["path": folder.isEmpty ? base : base + "/" + folder])
            for entry in reply.files ?? [] {
                let relative = folder.isEmpty ? entry.path : folder + "/" + entry.path
                if entry.isDir == true { folders.append(relative) } else { files.append((relative, entry.fileSize ?? 0)) }
            }
        }
        return files.sorted { $0.path < $1.path }
    }

    /// Streams file `path` under `root` to `file`.
    public func downloadArtifact(_ path: String, under root: String, to file: URL) throws(MLflowError) {
        let url = try artifactURL(root: root, path: path)
        do { try http.download(url, to: file) } catch { throw MLflowError(server: baseURL, error) }
    }

    // MARK: Requests

    func get<Reply: Decodable>(_ endpoint: String, _ query: [String: String]) throws(MLflowError) -> Reply {
        try getJSON(baseURL + "/api/2.0/mlflow/" + endpoint, query)
    }

    private func getJSON<Reply: Decodable>(_ url: String, _ query: [String: String]) throws(MLflowError) -> Reply {
        var components = URLComponents()
        components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        do {
            return try http.get(url + (components.percentEncodedQuery.map { "?" + $0 } ?? "")).json(
                Reply.self, decoder: Self.decoder)
        } catch {
            throw MLflowError(server: baseURL, error)
        }
    }

    func post<Reply: Decodable>(_ endpoint: String, _ body: some Encodable) throws(MLflowError) -> Reply {
        let data: Data
        do { data = try Self.encoder.encode(body) } catch {
            throw MLflowError(server: baseURL, code: "INVALID_PARAMETER_VALUE", message: "cannot encode \(endpoint): \(error)")
        }
        do {
            return try http.send("POST", baseURL + "/api/2.0/mlflow/" + endpoint, body: data, contentType: "application/json")
                .json(Reply.self, decoder: Self.decoder)
        } catch {
            throw MLflowError(server: baseURL, error)
        }
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }

    /// MLflow's timestamps: milliseconds since 1970.
    public static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
}
