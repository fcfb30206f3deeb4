import FishNeural
import Foundation

/// Runs ONNX Runtime (from pip, in a Python interpreter the caller names) on the exported graph of
/// the same weights, for side-by-side figures and to check that the export reproduces our logits.
public struct ONNXRuntimeComparison: Sendable {
    /// What ONNX Runtime measured.
    public struct Report: Sendable, Codable {
        public let version: String
        public let latency: [BenchmarkService.Latency]
        public let throughput: [BenchmarkService.Throughput]
        /// Largest |ORT logit - our logit| over the compared batch.
        public let maxLogitDifference: Double
    }

    public let python: String

    public init(python: String) {
        self.python = python
    }

    /// True when `python` can import onnxruntime and numpy.
    public var isAvailable: Bool {
        (try? Self.execute(python, ["-c", "import onnxruntime, numpy"]))?.status == 0
    }

    /// Measures ONNX Runtime on `onnx` with `input` (NCHW, `batch` images of `size`) and compares
    /// its logits with `ourLogits` (for the same batch).
    public func run(onnx: Data, input: [Float], batch: Int, size: Int, ourLogits: [Float], threadCounts: [Int],
                    repeats: Int, batches: Int) throws -> Report {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fishops-ort-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let files = (model: folder.appendingPathComponent("model.onnx"), input: folder.appendingPathComponent("input.bin"),
                     logits: folder.appendingPathComponent("logits.bin"))
        try onnx.write(to: files.model)
        try input.withUnsafeBytes { Data($0) }.write(to: files.input)
        try ourLogits.withUnsafeBytes { Data($0) }.write(to: files.logits)
        let settings: [String: Any] = ["model": files.model.path, "input": files.input.path, "logits": files.logits.path,
                                       "batch": batch, "size": size, "threads": threadCounts, "repeats": repeats,
                                       "batches": batches]
        let arguments = String(decoding: try JSONSerialization.data(withJSONObject: settings), as: UTF8.self)
        let result = try Self.execute(python, ["-c", Self.script, arguments])
        guard result.status == 0 else {
            throw ServiceError.failed("ONNX Runtime benchmark failed: \(result.stderr.suffix(500))")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Report.self, from: Data(result.stdout.utf8))
    }

    private static func execute(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    /// The measuring script: same protocol as our own benchmark (median and p90 of single-image
    /// runs after a warm-up; total time of `batches` full batches).
    static let script = #"""
import json, sys, time
import numpy as np
import onnxruntime as ort

s = json.loads(sys.argv[1])
batch, size = s["batch"], s["size"]
x = np.fromfile(s["input"], dtype=np.float32).reshape(batch, 3, size, size)
ours = np.fromfile(s["logits"], dtype=np.float32).reshape(batch, -1)
report = {"version": ort.__version__, "latency": [], "throughput": []}
difference = 0.0
for threads in s["threads"]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(s["model"], options, providers=["CPUExecutionProvider"])
    one = x[:1]
    session.run(["logits"], {"input": one})
    times = []
    for _ in range(s["repeats"]):
        start = time.perf_counter()
        session.run(["logits"], {"input": one})
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    report["latency"].append({"threads": threads, "medianMs": times[len(times) // 2],
                              "p90Ms": times[min(len(times) - 1, len(times) * 9 // 10)]})
    logits = session.run(["logits"], {"input": x})[0]
    difference = max(difference, float(np.abs(logits - ours).max()))
    start = time.perf_counter()
    for _ in range(s["batches"]):
        session.run(["logits"], {"input": x})
    elapsed = time.perf_counter() - start
    report["throughput"].append({"threads": threads, "batch": batch, "imagesPerSecond": batch * s["batches"] / elapsed})
report["max_logit_difference"] = difference
print(json.dumps(report))
"""#
}
