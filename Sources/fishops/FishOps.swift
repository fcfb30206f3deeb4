import ArgumentParser
import FishServices
import Foundation
import Synchronization

@main
struct FishOps: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fishops",
        abstract: "Fish-species classification MLOps from the terminal.",
        discussion: """
            State lives in $FISHOPS_HOME (default ~/.fishops). Exit status: 0 success, 1 failure,
            2 usage error, 3 conflict (someone else moved the alias first), 4 refused by the promotion gate.
            """,
        subcommands: [
            Console.self, Classify.self, Train.self, Pipeline.self, Cluster.self, Schedule.self, Agent.self, Worker.self,
            Serve.self, Servers.self, Predictions.self, Drift.self, Models.self, Runs.self, Weights.self, Export.self, Bench.self,
            MLflow.self, Hooks.self, Status.self, Doctor.self,
        ],
        defaultSubcommand: Console.self)
}

/// Exit status for a compare-and-swap conflict.
let conflictExitCode: Int32 = 3
/// Exit status for a promotion refused by the gate.
let refusedExitCode: Int32 = 4

/// Resolves the configuration and opens the store, turning failures into a clean exit.
/// `servers` (`--server` values) are watched beside the configured ones.
func makeContext(threads: Int? = nil, servers: [String] = []) throws -> ServiceContext {
    do {
        var config = try FishConfig.fromEnvironment()
        config.servers += try servers.flatMap { try FishConfig.serverURLs($0, source: "--server") }
        if let threads {
            if let problem = FishConfig.threadCountProblem(threads, source: "--threads") { throw ValidationError(problem) }
            config.threads = threads
        }
        config.workerExecutable = FishConfig.ownExecutable
        let context = try ServiceContext(config: config)
        startOutboxDrain(context)
        return context
    } catch let error as ValidationError {
        throw error
    } catch {
        throw fail(error)
    }
}

/// The background deliveries of this process (MLflow, hooks), when there is anything to deliver to.
private let outboxDrain = Mutex<OutboxDrain?>(nil)

/// Starts the drain with the process's first context; at exit it gets a few seconds to deliver
/// what the command recorded (training and promotions never wait on MLflow or a hook; what is left
/// waits in the store for the next process, `fishops mlflow sync` or `fishops hooks deliver`).
private func startOutboxDrain(_ context: ServiceContext) {
    let started = outboxDrain.withLock { drain in
        if drain != nil { return false }
        drain = OutboxDrain.start(context)
        return drain != nil
    }
    guard started else { return }
    atexit {
        for line in outboxDrain.withLock({ $0 })?.finish(within: .seconds(5)) ?? [] { printError(line) }
    }
}

/// Prints `error` to standard error and returns the exit code that fits it.
func fail(_ error: any Error) -> ExitCode {
    printError("error: \(describeFileError(error))")
    switch error as? StoreError {
    case .conflict?: return ExitCode(conflictExitCode)
    case .gateRefused?: return ExitCode(refusedExitCode)
    default: return .failure
    }
}

/// Runs `body`, reporting any error the FishOps way.
func reporting<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as ExitCode { throw error } catch { throw fail(error) }
}

/// Prints `message` to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Encodes `value` as one line of JSON with sorted keys and ISO 8601 dates (keys in snake_case
/// when asked).
func jsonLine(_ value: some Encodable, snakeCase: Bool = false) -> String {
    let encoder = JSONEncoder()
    if snakeCase { encoder.keyEncodingStrategy = .convertToSnakeCase }
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
}

/// Formats a date for tables: local time to the minute.
func shortDate(_ date: Date) -> String { localDate(date, format: "yyyy-MM-dd HH:mm") }

/// `date` in local time as `format` (a DateFormatter pattern).
func localDate(_ date: Date, format: String) -> String {
    let formatter = DateFormatter()
    formatter.dateFormat = format
    return formatter.string(from: date)
}

/// Left-aligned text columns.
func table(_ header: [String], _ rows: [[String]]) -> String {
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
    return all.map { row in
        row.enumerated().map { index, cell in
            index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}
