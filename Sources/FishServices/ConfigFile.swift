import Foundation

/// `$FISHOPS_HOME/fishops.conf`: settings that outlive one shell, as flat `key = value` lines
/// (`#` starts a comment). Known keys: `server = URL` (repeatable), a server on another machine
/// that `fishops servers` and the console's `:serve` watch; `mlflow_uri = URL`, the MLflow server
/// the store mirrors to.
struct ConfigFile: Equatable {
    var servers: [String] = []
    var mlflowURI: String?

    /// Parses the file's text; a line it does not understand is an error naming the line.
    init(parsing text: String, path: String) throws(ServiceError) {
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            let place = "\(path) line \(number + 1)"
            guard parts.count == 2 else { throw .badConfiguration("\(place): expected key = value") }
            let value = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            switch parts[0] {
            case "server": servers.append(try Self.serverURL(value, source: place))
            case "mlflow_uri": mlflowURI = try Self.serverURL(value, source: place)
            default: throw .badConfiguration("\(place): unknown key \(parts[0]) (known: server, mlflow_uri)")
            }
        }
    }

    init() {}

    /// The file under `home`, or an empty configuration when there is none.
    static func load(home: URL) throws(ServiceError) -> ConfigFile {
        let file = home.appendingPathComponent("fishops.conf")
        guard FileManager.default.fileExists(atPath: file.path) else { return ConfigFile() }
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw .badConfiguration("\(file.path): cannot read it")
        }
        return try ConfigFile(parsing: String(decoding: data, as: UTF8.self), path: file.path)
    }

    /// A server's base URL (`http://` or `https://`, no trailing slash).
    static func serverURL(_ text: String, source: String) throws(ServiceError) -> String {
        guard let components = URLComponents(string: text), ["http", "https"].contains(components.scheme?.lowercased() ?? ""),
            components.host?.isEmpty == false, components.query == nil
        else {
            throw .badConfiguration("\(source): \(text.debugDescription) is not a server URL such as http://host:8080")
        }
        return ServingService.normalized(text)
    }
}
