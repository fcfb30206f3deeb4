import Foundation

/// Runs a command-line tool found on PATH (sbatch, squeue, ...) and captures its output.
enum ExternalCommand {
    struct Output {
        let status: Int32
        let stdout: Data
        let stderr: String
    }

    /// Runs `tool arguments`; throws when the tool is missing or exits non-zero.
    static func run(_ tool: String, _ arguments: [String], hint: String) throws -> Data {
        let output = try capture(tool, arguments, hint: hint)
        guard output.status == 0 else {
            throw ClusterError.command(([tool] + arguments).joined(separator: " "), status: output.status, output: output.stderr)
        }
        return output.stdout
    }

    static func capture(_ tool: String, _ arguments: [String], hint: String) throws -> Output {
        guard let path = find(tool) else { throw ClusterError.toolMissing(tool, hint: hint) }
        let process = Process()
        process.executableURL = path
        process.arguments = arguments
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes to the end before waiting, so a large output cannot block the tool.
        let errors = ErrorCollector(stderr.fileHandleForReading)
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: data, stderr: errors.text())
    }

    static func find(_ tool: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent(tool) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }
}

/// Reads a pipe to its end on another thread.
private final class ErrorCollector: @unchecked Sendable {
    private let group = DispatchGroup()
    private var data = Data()

    init(_ handle: FileHandle) {
        group.enter()
        DispatchQueue.global().async {
            self.data = handle.readDataToEndOfFile()
            self.group.leave()
        }
    }

    func text() -> String {
        group.wait()
        return String(decoding: data, as: UTF8.self)
    }
}
