import Foundation

/// One line a worker prints on stdout (the worker protocol): JSON with an `event` field.
///
/// `{"event":"start","task":"extract-0003"}`, `{"event":"progress","done":120,"total":600}`,
/// `{"event":"heartbeat"}`, `{"event":"epoch",...}`, `{"event":"done","task":...}`,
/// `{"event":"error","message":...}`.
public struct WorkerMessage: Sendable, Codable, Equatable {
    public var event: String
    public var task: String?
    public var done: Int?
    public var total: Int?
    public var message: String?
    /// Whether a `done` task found its result already written (nothing recomputed).
    public var reused: Bool?
    /// Event-specific figures (an epoch's losses, a shard's cache counters).
    public var values: [String: Double]?

    public init(
        event: String, task: String? = nil, done: Int? = nil, total: Int? = nil, message: String? = nil,
        reused: Bool? = nil, values: [String: Double]? = nil
    ) {
        self.event = event
        self.task = task
        self.done = done
        self.total = total
        self.message = message
        self.reused = reused
        self.values = values
    }

    /// The message as one JSON line (no newline).
    public var line: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? #"{"event":"error"}"#
    }

    /// Parses a line; nil for anything that is not a worker message (stray output).
    public static func parse(_ line: some StringProtocol) -> WorkerMessage? {
        guard line.first == "{" else { return nil }
        return try? JSONDecoder().decode(WorkerMessage.self, from: Data(line.utf8))
    }

    /// The last progress message in `log`, for backends that only see output files.
    public static func lastProgress(in log: String) -> WorkerMessage? {
        log.split(separator: "\n").reversed().lazy.compactMap { parse($0) }.first { $0.event == "progress" }
    }
}
