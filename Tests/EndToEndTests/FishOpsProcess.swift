import FishTestSupport
import Foundation

/// Runs the built `fishops` binary as an operator would.
struct FishOpsProcess {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String

        var jsonLines: [[String: Any]] {
            stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
    }

    /// Starts `fishops arguments` with `FISHOPS_HOME=home` (and `environment`), without waiting;
    /// with `memoryLimitKB`, under `ulimit -v` of that many KB.
    static func start(
        _ arguments: [String], home: URL, output: Pipe = Pipe(), errors: Pipe = Pipe(),
        memoryLimitKB: Int? = nil, environment: [String: String] = [:]
    ) throws -> Process {
        guard let binary = Fixtures.binary else { throw CocoaError(.fileNoSuchFile) }
        let process = Process()
        if let memoryLimitKB {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -v \(memoryLimitKB) && exec \"$0\" \"$@\"", binary.path] + arguments
        } else {
            process.executableURL = binary
            process.arguments = arguments
        }
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["FISHOPS_HOME": home.path, "FISHOPS_USER": "tester"].merging(environment) { $1 }
        ) { $1 }
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        return process
    }

    /// Runs `fishops arguments` to completion.
    static func run(
        _ arguments: [String], home: URL, memoryLimitKB: Int? = nil, environment: [String: String] = [:]
    ) throws -> Result {
        let output = Pipe()
        let errors = Pipe()
        let process = try start(
            arguments, home: home, output: output, errors: errors, memoryLimitKB: memoryLimitKB, environment: environment)
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }
}
