public import FishHTTPClient
import Foundation

/// A failed MLflow request, naming the server and what it said.
public struct MLflowError: Error, CustomStringConvertible, Sendable {
    /// The server's base URL (no credentials in it).
    public let server: String
    /// MLflow's `error_code` (`RESOURCE_DOES_NOT_EXIST`, `INVALID_PARAMETER_VALUE`, ...), when it gave one.
    public let code: String?
    public let message: String
    /// The HTTP status, when the server answered.
    public let status: Int?
    /// Whether MLflow refused this request for what it says (an invalid value, a resource it
    /// deleted): sending it again unchanged cannot succeed. False when the server was down, slow,
    /// overloaded, refused the credentials, is not an MLflow server, or failed inside: an
    /// operator can fix those, and the same request then succeeds.
    public let rejectsRequest: Bool

    init(server: String, code: String, message: String) {
        (self.server, self.code, self.message, status, rejectsRequest) = (server, code, message, nil, true)
    }

    init(server: String, _ error: HTTPClientError) {
        self.server = server
        switch error {
        case let .status(_, _, status, message):
            self.status = status
            let parts = message.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            let hasCode = parts.count == 2 && parts[0].allSatisfy { $0.isUppercase || $0 == "_" }
            code = hasCode ? parts[0] : nil
            switch status {
            case 401, 403:
                self.message =
                    "refused the credentials (HTTP \(status)): set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME "
                    + "and MLFLOW_TRACKING_PASSWORD, to an account of this server"
            default: self.message = "HTTP \(status): \(message)"
            }
            rejectsRequest = hasCode && (400..<500).contains(status) && ![401, 403, 408, 429].contains(status)
        default:
            (status, code, message, rejectsRequest) = (nil, nil, "\(error)", false)
        }
    }

    public var description: String { "MLflow at \(server): \(message)" }
}
