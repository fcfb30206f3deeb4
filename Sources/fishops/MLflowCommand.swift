import ArgumentParser
import FishServices
import Foundation

/// `fishops mlflow`: the store's mirror on an MLflow server (docs/mlflow.md).
struct MLflow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlflow", abstract: "Mirror the store to an MLflow server: status and sync.",
        discussion: "The server is $FISHOPS_MLFLOW_URI, or mlflow_uri in $FISHOPS_HOME/fishops.conf.",
        subcommands: [Status.self, Sync.self])

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show how far the mirror is behind the store.")
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let status = try reporting { try MirrorService(context: try makeContext()).status() }
            if json { return print(jsonLine(status, snakeCase: true)) }
            print(MirrorStatusText(status: status).text)
        }
    }

    struct Sync: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send every record the MLflow server does not have yet, in order; exit 1 if it cannot take them.")
        @Flag(help: "Also send again the records the server refused before.") var retryRefused = false
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let report = try reporting { try MirrorService(context: try makeContext()).sync(retryRefused: retryRefused) }
            if json { return print(jsonLine(report, snakeCase: true)) }
            print("sent \(report.sent) record(s)\(report.rejected > 0 ? ", \(report.rejected) refused by the server" : "")")
            print(MirrorStatusText(status: report.status).text)
        }
    }
}

/// The mirror's status as lines of text.
struct MirrorStatusText {
    let status: MirrorStatus

    var text: String {
        guard let server = status.server else {
            return "no MLflow server configured: set FISHOPS_MLFLOW_URI or mlflow_uri in fishops.conf (docs/mlflow.md)"
        }
        var lines = ["server: \(server)", "state: \(status.summary)"]
        if let oldest = status.oldestPendingAt { lines.append("oldest pending: \(shortDate(oldest))") }
        if let sent = status.lastSentAt { lines.append("last sent: \(shortDate(sent))") }
        if let error = status.lastError {
            lines.append("last error\(status.lastErrorAt.map { " (\(shortDate($0)))" } ?? ""): \(error)")
        }
        if let rejection = status.lastRejection { lines.append("last refused: \(rejection)") }
        return lines.joined(separator: "\n")
    }
}
