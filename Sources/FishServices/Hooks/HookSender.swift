import FishHTTPClient
import Foundation

/// One attempt to deliver a queued event to its hook.
enum HookSender {
    /// Longest a hook's command or request may take.
    static let timeout: TimeInterval = 30

    /// Whether the hook took the event, and what it answered (or why it could not be reached).
    static func send(_ event: QueuedHookEvent) -> (delivered: Bool, detail: String) {
        switch event.hook.action {
        case let .exec(command): return run(command, event: event)
        case let .post(url, tokenFile, tokenEnvironment):
            return post(event.payload, to: url, token: token(file: tokenFile, environment: tokenEnvironment))
        }
    }

    /// `/bin/sh -c command` with the event's JSON on standard input and `FISHOPS_EVENT` set;
    /// exit status 0 is a delivery.
    private static func run(_ command: String, event: QueuedHookEvent) -> (Bool, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        var environment = ProcessInfo.processInfo.environment
        environment["FISHOPS_EVENT"] = event.event.rawValue
        process.environment = environment
        // Standard input is a file, not a pipe: a command that exits without reading it must not
        // kill this process with SIGPIPE.
        let inputFile = FileManager.default.temporaryDirectory.appendingPathComponent("fishops-hook-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: inputFile) }
        guard (try? Data(event.payload.utf8).write(to: inputFile)) != nil, let input = try? FileHandle(forReadingFrom: inputFile)
        else {
            return (false, "cannot write the event for the command to \(inputFile.path)")
        }
        defer { try? input.close() }
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        do { try process.run() } catch { return (false, "cannot run /bin/sh: \(error)") }
        // Read the output on its own thread: a command that writes a lot must not block on a full pipe.
        let collected = OutputTail()
        let finished = DispatchSemaphore(value: 0)
        let reader = Thread {
            collected.read(output.fileHandleForReading)
            finished.signal()
        }
        reader.start()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            return (false, "timed out after \(Int(timeout)) s")
        }
        process.waitUntilExit()
        _ = finished.wait(timeout: .now() + 1)  // what it printed last, unless a child keeps the pipe open
        let tail = collected.text
        let status = process.terminationStatus
        return (status == 0, "exit \(status)\(tail.isEmpty ? "" : ": \(tail)")")
    }

    private static func post(_ body: String, to url: String, token: String?) -> (Bool, String) {
        var client = HTTPClient(credentials: token.map { .bearer($0) })
        client.timeout = .seconds(Int64(timeout))
        client.connectTimeout = .seconds(5)
        client.maxReplyBytes = 64 * 1024
        do {
            let reply = try client.send("POST", url, body: Data(body.utf8), contentType: "application/json")
            return (true, "HTTP \(reply.status)")
        } catch {
            return (false, "\(error)")
        }
    }

    /// The Bearer token, read now (never stored): the file's first line, else the variable's value.
    private static func token(file: String?, environment: String?) -> String? {
        if let file, let text = try? String(contentsOfFile: file, encoding: .utf8) {
            return text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return environment.flatMap { ProcessInfo.processInfo.environment[$0] }.flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// The last few hundred bytes a hook's command printed.
private final class OutputTail: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes = Data()

    func read(_ handle: FileHandle) {
        while case let chunk = handle.availableData, !chunk.isEmpty {
            lock.withLock {
                bytes.append(chunk)
                if bytes.count > 600 { bytes = bytes.suffix(300) }
            }
        }
    }

    var text: String {
        lock.withLock {
            String(decoding: bytes.suffix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}
