import ArgumentParser
import FishServices
import Foundation

@main
struct FishOps: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fishops",
        abstract: "Fish-species classification MLOps from the terminal.",
        discussion: "State lives in $FISHOPS_HOME (default ~/.fishops).",
        subcommands: [Classify.self, Weights.self, Bench.self, Status.self],
        defaultSubcommand: Status.self)
}

/// Resolves the configuration, turning bad settings into a clean exit.
func loadConfig(threads: Int? = nil) throws -> FishConfig {
    var config = try FishConfig.fromEnvironment()
    if let threads {
        guard threads > 0 else { throw ValidationError("--threads must be at least 1") }
        config.threads = threads
    }
    return config
}

/// Prints `message` to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Encodes `value` as one line of JSON with sorted keys.
func jsonLine(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
}
