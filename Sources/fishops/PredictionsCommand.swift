import ArgumentParser
import FishServices
import Foundation

/// `fishops predictions`: the answers the servers logged (see docs/serving.md).
struct Predictions: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show or export the answers fishops serve logged under $FISHOPS_HOME/predictions.",
        subcommands: [Tail.self, Export.self])

    /// The log's entries since `since`, with a note on standard error about unreadable lines.
    static func entries(since: String?) throws -> [PredictionLogEntry] {
        let context = try makeContext()
        let start = try reporting { try since.map { try PredictionLog.since($0) } }
        let (entries, unreadable) = PredictionLog(home: context.config.home).entries(since: start)
        if unreadable > 0 {
            printError("note: \(unreadable) line(s) of the log could not be read (cut short when a server was killed?)")
        }
        return entries
    }

    struct Tail: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The latest answers, oldest first.")

        @Option(name: [.customShort("n"), .customLong("lines")], help: "How many answers.") var count = 20
        @Option(help: "Only answers since then: a date, a time or a span back from now (30m, 2h, 7d).") var since: String?
        @Flag(help: "One JSON object per answer, as logged.") var json = false

        func validate() throws {
            guard count >= 1 else { throw ValidationError("--lines must be at least 1") }
        }

        func run() throws {
            let entries = try Predictions.entries(since: since).suffix(count)
            if json {
                for entry in entries { print(PredictionLog.jsonLine(entry)) }
                return
            }
            guard !entries.isEmpty else {
                print(
                    "No answers logged\(since.map { " since \($0)" } ?? ""): fishops serve logs them under $FISHOPS_HOME/predictions."
                )
                return
            }
            for entry in entries {
                let top = entry.top.first.map { "\(String(format: "%.2f", $0.probability)) \($0.label)" } ?? "-"
                let flags = [entry.cached ? "cached" : nil, entry.image].compactMap { $0 }.joined(separator: " ")
                print(
                    "\(localDate(entry.at, format: "yyyy-MM-dd HH:mm:ss"))  v\(entry.version)  \(String(entry.sha256.prefix(12)))  "
                        + "\(String(format: "%6.1f", entry.latencyMs)) ms  \(top)\(flags.isEmpty ? "" : "  [\(flags)]")")
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every logged answer, oldest first, as CSV (or JSON lines).")

        @Option(help: "Only answers since then: a date, a time or a span back from now (30m, 2h, 7d).") var since: String?
        @Flag(help: "JSON lines, as logged, instead of CSV.") var json = false

        func run() throws {
            let entries = try Predictions.entries(since: since)
            if !json { print(PredictionLog.csvHeader) }
            for entry in entries { print(json ? PredictionLog.jsonLine(entry) : PredictionLog.csvRow(entry)) }
        }
    }
}
