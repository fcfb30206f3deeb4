public import FishHTTPClient

/// Where the MLflow server is and how to sign in, as MLflow's own clients take it from the
/// environment: `MLFLOW_TRACKING_TOKEN` (Bearer), else `MLFLOW_TRACKING_USERNAME` and
/// `MLFLOW_TRACKING_PASSWORD` (Basic); `MLFLOW_TRACKING_INSECURE_TLS=true` skips certificate checks.
/// Credentials are kept here only, never printed: `description` shows the URI alone.
public struct MLflowSettings: Sendable, CustomStringConvertible {
    /// The server's base URL, without a trailing slash.
    public let uri: String
    let credentials: HTTPClient.Credentials?
    let insecureTLS: Bool

    public init(uri: String, environment: [String: String]) {
        self.uri = uri.hasSuffix("/") ? String(uri.dropLast()) : uri
        if let token = environment["MLFLOW_TRACKING_TOKEN"], !token.isEmpty {
            credentials = .bearer(token)
        } else if let user = environment["MLFLOW_TRACKING_USERNAME"], !user.isEmpty {
            credentials = .basic(user: user, password: environment["MLFLOW_TRACKING_PASSWORD"] ?? "")
        } else {
            credentials = nil
        }
        insecureTLS = ["true", "1", "yes"].contains(environment["MLFLOW_TRACKING_INSECURE_TLS"]?.lowercased() ?? "")
    }

    public var description: String { uri }
}
