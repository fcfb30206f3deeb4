import FishNeural
import FishServices
public import Foundation

/// Another engine run from pip (in a Python interpreter the caller names) on the exported graph of
/// the same weights: ONNX Runtime or OpenVINO's CPU plugin, for side-by-side figures and to check
/// that the export reproduces our logits.
public struct PeerRuntime: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case onnxRuntime = "onnxruntime"
        case openVINO = "openvino"

        /// The engine's name in reports.
        public var name: String { self == .onnxRuntime ? "ONNX Runtime" : "OpenVINO" }
        /// Its name in ratio lines (`ours/ORT`).
        public var shortName: String { self == .onnxRuntime ? "ORT" : "OpenVINO" }
    }

    /// What the peer measured.
    public struct Report: Sendable, Codable {
        public let version: String
        public let latency: [BenchmarkService.Latency]
        public let throughput: [BenchmarkService.Throughput]
        /// Largest |peer logit - our logit| over the compared batch.
        public let maxLogitDifference: Double
    }

    public let python: String
    public let kind: Kind

    public init(python: String, kind: Kind = .onnxRuntime) {
        (self.python, self.kind) = (python, kind)
    }

    /// True when `python` can import the peer and numpy.
    public var isAvailable: Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-c", "import \(kind.rawValue), numpy"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// Starts the peer on `onnx` with one session per thread count, runs `input` (NCHW,
    /// `batch` images of `size`) once and compares its logits with `ourLogits` for the same batch.
    public func start(
        onnx: Data, input: [Float], batch: Int, size: Int, ourLogits: [Float],
        threadCounts: [Int]
    ) throws -> Session {
        try Session(
            python: python, kind: kind, onnx: onnx, input: input, batch: batch, size: size, ourLogits: ourLogits,
            threadCounts: threadCounts)
    }

    /// A running peer process that times passes on request, so that its measurements can
    /// alternate with ours in the same minute of a noisy machine.
    public final class Session {
        public let version: String
        /// Largest |peer logit - our logit| over the compared batch, over every thread count.
        public let maxLogitDifference: Double
        private let process = Process()
        private let channel = JSONLines()
        private let folder: URL

        private let kind: Kind

        init(
            python: String, kind: Kind, onnx: Data, input: [Float], batch: Int, size: Int, ourLogits: [Float],
            threadCounts: [Int]
        ) throws {
            self.kind = kind
            folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "fishops-\(kind.rawValue)-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let files = (
                model: folder.appendingPathComponent("model.onnx"), input: folder.appendingPathComponent("input.bin"),
                logits: folder.appendingPathComponent("logits.bin"), errors: folder.appendingPathComponent("stderr.txt")
            )
            try onnx.write(to: files.model)
            try input.withUnsafeBytes { Data($0) }.write(to: files.input)
            try ourLogits.withUnsafeBytes { Data($0) }.write(to: files.logits)
            try Data().write(to: files.errors)
            let settings: [String: Any] = [
                "model": files.model.path, "input": files.input.path, "logits": files.logits.path,
                "batch": batch, "size": size, "threads": threadCounts, "runtime": kind.rawValue,
            ]
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                python, "-c", String(decoding: PackageResources.peer_runtime_py, as: UTF8.self),
                String(decoding: try JSONSerialization.data(withJSONObject: settings), as: UTF8.self),
            ]
            process.standardInput = channel.requests
            process.standardOutput = channel.replies
            process.standardError = try FileHandle(forWritingTo: files.errors)
            try process.run()
            guard let hello = try? channel.read(), let version = hello["version"] as? String,
                let difference = hello["max_logit_difference"] as? Double
            else {
                channel.close()
                process.waitUntilExit()
                let errors = (try? String(contentsOf: files.errors, encoding: .utf8)) ?? ""
                try? FileManager.default.removeItem(at: folder)
                throw ServiceError.failed("\(kind.name) benchmark failed: \(errors.suffix(500))")
            }
            self.version = version
            maxLogitDifference = difference
        }

        deinit {
            channel.close()
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: folder)
        }

        /// Milliseconds of each of `count` single-image passes with `threads` threads; on the
        /// `cpu`-th CPU the process may use if given (as `CPUPinning.run(onCPU:)` picks it).
        public func singlePasses(threads: Int, count: Int, cpu: Int? = nil) throws -> [Double] {
            guard let times = try channel.ask(request(["threads": threads, "single": count], cpu: cpu))["times"] as? [Double]
            else {
                throw ServiceError.failed("\(kind.name) benchmark: no times in its answer")
            }
            return times
        }

        /// Milliseconds of one pass over the whole batch with `threads` threads (on `cpu` as above).
        public func batchPass(threads: Int, cpu: Int? = nil) throws -> Double {
            guard let milliseconds = try channel.ask(request(["threads": threads, "batch": true], cpu: cpu))["ms"] as? Double
            else {
                throw ServiceError.failed("\(kind.name) benchmark: no time in its answer")
            }
            return milliseconds
        }

        private func request(_ fields: [String: Any], cpu: Int?) -> [String: Any] {
            var request = fields
            if let cpu { request["cpu"] = cpu }
            return request
        }
    }

    /// Requests to a child process and its answers, one JSON object per line each way.
    private final class JSONLines {
        let requests = Pipe(), replies = Pipe()
        private var buffered = Data()

        func ask(_ request: [String: Any]) throws -> [String: Any] {
            var line = try JSONSerialization.data(withJSONObject: request)
            line.append(UInt8(ascii: "\n"))
            try requests.fileHandleForWriting.write(contentsOf: line)
            return try read()
        }

        func read() throws -> [String: Any] {
            while true {
                if let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = Data(buffered[buffered.startIndex..<newline])
                    buffered = Data(buffered[buffered.index(after: newline)...])
                    guard let object = try JSONSerialization.jsonObject(with: line) as? [String: Any] else {
                        throw ServiceError.failed("peer benchmark: unreadable answer")
                    }
                    return object
                }
                let chunk = replies.fileHandleForReading.availableData
                guard !chunk.isEmpty else { throw ServiceError.failed("peer benchmark ended early") }
                buffered.append(chunk)
            }
        }

        /// Closes the requests, which ends the child.
        func close() {
            try? requests.fileHandleForWriting.close()
        }
    }
}
