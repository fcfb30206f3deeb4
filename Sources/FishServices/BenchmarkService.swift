import Dispatch
import FishNeural
import Foundation

/// Measures the engine and the classify pipeline on this machine. It reports figures; it asserts
/// nothing about time.
public struct BenchmarkService: Sendable {
    /// Latency of single-image forward passes, in milliseconds.
    public struct Latency: Sendable, Codable {
        public let threads: Int
        public let medianMs: Double
        public let p90Ms: Double
    }

    /// Throughput of batched forward passes.
    public struct Throughput: Sendable, Codable {
        public let threads: Int
        public let batch: Int
        public let imagesPerSecond: Double
    }

    /// End-to-end classification (decode + preprocess + forward) of a folder.
    public struct EndToEnd: Sendable, Codable {
        public let folder: String
        public let images: Int
        public let failed: Int
        public let imagesPerSecond: Double
    }

    /// Ours divided by ONNX Runtime's, per thread count: below 1 is faster for latency, above 1 for throughput.
    public struct Ratios: Sendable, Codable {
        public let threads: Int
        public let latencyMedian: Double
        public let throughput: Double
    }

    public struct Report: Sendable, Codable {
        public let model: String
        public let blasCore: String
        public let latency: [Latency]
        public let throughput: [Throughput]
        public let endToEnd: EndToEnd?
        public let onnxRuntime: ONNXRuntimeComparison.Report?
        /// Why the ONNX Runtime comparison did not run, when it did not.
        public let onnxRuntimeSkipped: String?
        public let ratios: [Ratios]
        public let peakRssMB: Double
    }

    private let context: ServiceContext

    public init(context: ServiceContext) {
        self.context = context
    }

    /// Runs every measurement: `repeats` timed single-image passes and `batches` timed batches
    /// per thread count, the same with ONNX Runtime through `python` (when given and usable),
    /// then classifies `folder` if given.
    public func run(model name: String?, threadCounts: [Int], batch: Int = 32, repeats: Int = 30, batches: Int = 3,
                    folder: String?, python: String? = nil) throws -> Report {
        let classification = ClassificationService(context: context)
        var latency: [Latency] = [], throughput: [Throughput] = []
        var modelName = ""
        for threads in threadCounts {
            let model = try classification.loadModel(name: name, threads: threads)
            modelName = "\(model.name) v\(model.version)"
            var generator = SystemRandomNumberGenerator()
            let input = (0..<(batch * model.inputFloats)).map { _ in Float.random(in: -1...1, using: &generator) }
            let single = Array(input[0..<model.inputFloats])
            _ = model.forward(single, count: 1)  // warm-up: workspaces, OpenBLAS threads
            let times = (0..<repeats).map { _ in Self.milliseconds { _ = model.forward(single, count: 1) } }.sorted()
            latency.append(Latency(threads: threads, medianMs: times[times.count / 2],
                                   p90Ms: times[min(times.count - 1, times.count * 9 / 10)]))
            _ = model.forward(input, count: batch)
            let total = (0..<batches).map { _ in Self.milliseconds { _ = model.forward(input, count: batch) } }.reduce(0, +)
            throughput.append(Throughput(threads: threads, batch: batch,
                                         imagesPerSecond: Double(batch * batches) / (total / 1000)))
        }
        var onnxRuntime: ONNXRuntimeComparison.Report?
        var skipped: String? = "no Python interpreter with onnxruntime given (make bench sets one up)"
        if let python {
            let comparison = ONNXRuntimeComparison(python: python)
            if comparison.isAvailable {
                onnxRuntime = try compare(with: comparison, model: name, threadCounts: threadCounts, batch: batch,
                                          repeats: repeats, batches: batches)
                skipped = nil
            } else {
                skipped = "\(python) cannot import onnxruntime and numpy"
            }
        }
        var ratios: [Ratios] = []
        for threads in threadCounts {
            guard let ours = latency.first(where: { $0.threads == threads }), let theirs = onnxRuntime?.latency.first(where: { $0.threads == threads }),
                  let oursBatch = throughput.first(where: { $0.threads == threads }),
                  let theirsBatch = onnxRuntime?.throughput.first(where: { $0.threads == threads }) else { continue }
            ratios.append(Ratios(threads: threads, latencyMedian: ours.medianMs / theirs.medianMs,
                                 throughput: oursBatch.imagesPerSecond / theirsBatch.imagesPerSecond))
        }
        var endToEnd: EndToEnd?
        if let folder {
            let model = try classification.loadModel(name: name)
            let files = classification.collectFiles([folder]).files
            guard !files.isEmpty else { throw ServiceError.invalidArgument("\(folder): no JPEG or PNG files to classify") }
            var failed = 0
            let elapsed = Self.milliseconds {
                classification.classify(files: files, model: model, top: 1) { result in
                    if case .failure = result.outcome { failed += 1 }
                }
            }
            endToEnd = EndToEnd(folder: folder, images: files.count, failed: failed,
                                imagesPerSecond: Double(files.count) / (elapsed / 1000))
        }
        return Report(model: modelName, blasCore: BLAS.core, latency: latency, throughput: throughput,
                      endToEnd: endToEnd, onnxRuntime: onnxRuntime, onnxRuntimeSkipped: skipped, ratios: ratios,
                      peakRssMB: Self.peakResidentMegabytes())
    }

    /// Exports the model, runs ONNX Runtime on the same random batch and checks its logits against ours.
    private func compare(with runtime: ONNXRuntimeComparison, model name: String?, threadCounts: [Int], batch: Int,
                         repeats: Int, batches: Int) throws -> ONNXRuntimeComparison.Report {
        let model = try ClassificationService(context: context).loadModel(name: name)
        let size = model.metadata.preprocessing.inputSize
        var generator = SystemRandomNumberGenerator()
        let nhwc = (0..<(batch * model.inputFloats)).map { _ in Float.random(in: -1...1, using: &generator) }
        let ours = model.forward(nhwc, count: batch).logits
        return try runtime.run(onnx: try ExportService(context: context).onnx(model: name), input: Self.nchw(nhwc, batch: batch, size: size),
                               batch: batch, size: size, ourLogits: ours, threadCounts: threadCounts, repeats: repeats,
                               batches: batches)
    }

    /// NHWC images as NCHW.
    public static func nchw(_ nhwc: [Float], batch: Int, size: Int) -> [Float] {
        var output = [Float](repeating: 0, count: nhwc.count)
        let plane = size * size
        for image in 0..<batch {
            for pixel in 0..<plane {
                for channel in 0..<3 {
                    output[(image * 3 + channel) * plane + pixel] = nhwc[(image * plane + pixel) * 3 + channel]
                }
            }
        }
        return output
    }

    private static func milliseconds(_ work: () -> Void) -> Double {
        let start = DispatchTime.now()
        work()
        return Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
    }

    /// The process's peak resident set size (getrusage reports kilobytes on Linux).
    static func peakResidentMegabytes() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF_VALUE, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}

#if os(Linux)
private let RUSAGE_SELF_VALUE = __rusage_who_t(RUSAGE_SELF.rawValue)
#else
private let RUSAGE_SELF_VALUE = RUSAGE_SELF
#endif
