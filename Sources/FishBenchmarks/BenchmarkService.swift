import Dispatch
import FishImaging
import FishNeural
public import FishServices
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

    /// Ours divided by a peer's, per thread count: below 1 is faster for latency, above 1 for
    /// throughput. Each is the median of the ratios of passes run back to back (one single-image
    /// pass each, or one batch each), so that a machine whose speed drifts compares like with like.
    public struct Ratios: Sendable, Codable {
        public let threads: Int
        public let latencyMedian: Double
        public let throughput: Double
    }

    public struct Report: Sendable, Codable {
        public let model: String
        /// OpenBLAS's kernel family (training's matrix products); "not loaded" when nothing used it.
        public let blasCore: String
        /// The instruction set of the engine's own kernels: avx512, avx2 or baseline.
        public let instructionSet: String
        /// Alternating rounds of ours and the peers' passes the figures come from.
        public let rounds: Int
        public let latency: [Latency]
        public let throughput: [Throughput]
        public let endToEnd: EndToEnd?
        public let onnxRuntime: PeerRuntime.Report?
        /// Why the ONNX Runtime comparison did not run, when it did not.
        public let onnxRuntimeSkipped: String?
        /// Ours over ONNX Runtime's.
        public let ratios: [Ratios]
        public let openVINO: PeerRuntime.Report?
        /// Why the OpenVINO comparison did not run, when it did not.
        public let openVINOSkipped: String?
        /// Ours over OpenVINO's.
        public let openVINORatios: [Ratios]
        public let peakRssMB: Double
    }

    private let context: ServiceContext

    public init(context: ServiceContext) {
        self.context = context
    }

    /// Runs every measurement per thread count in `rounds` rounds through ours and each peer
    /// (ONNX Runtime, OpenVINO) that `python` can import: `passes` single-image passes, each of ours
    /// followed by one of every peer's, then one batch each, so that all see the same moments of a
    /// noisy machine. Then classifies `folder` if given.
    public func run(
        model name: String?, threadCounts: [Int], batch: Int = 32, rounds: Int = 8, passes: Int = 5,
        folder: String?, python: String? = nil
    ) throws -> Report {
        let classification = ClassificationService(context: context)
        let models = try threadCounts.map { try classification.loadModel(name: name, threads: $0) }
        guard let first = models.first else { throw ServiceError.invalidArgument("no thread counts to measure") }
        let size = first.metadata.preprocessing.inputSize
        var generator = SystemRandomNumberGenerator()
        let input = (0..<(batch * first.inputFloats)).map { _ in Float.random(in: -1...1, using: &generator) }
        let single = Array(input[0..<first.inputFloats])
        for model in models {  // warm-up: workspaces, pages, caches
            _ = model.forward(single, count: 1)
            _ = model.forward(input, count: batch)
        }
        var peers: [(kind: PeerRuntime.Kind, session: PeerRuntime.Session)] = []
        var skipped: [PeerRuntime.Kind: String] = [:]
        // What every peer is given, prepared once for the first that runs: the graph, the batch in
        // NCHW and our logits for it.
        var shared: (onnx: Data, input: [Float], logits: [Float])?
        for kind in PeerRuntime.Kind.allCases {
            guard let python else {
                skipped[kind] = "no Python interpreter with \(kind.rawValue) given (make bench-setup sets one up)"
                continue
            }
            let peer = PeerRuntime(python: python, kind: kind)
            guard peer.isAvailable else {
                skipped[kind] = "\(python) cannot import \(kind.rawValue) and numpy (make bench-setup installs them)"
                continue
            }
            let given =
                try shared
                ?? (
                    ExportService(context: context).onnx(model: name), Self.nchw(input, batch: batch, size: size),
                    first.forward(input, count: batch).logits
                )
            shared = given
            peers.append(
                (
                    kind,
                    try peer.start(
                        onnx: given.onnx, input: given.input, batch: batch, size: size, ourLogits: given.logits,
                        threadCounts: threadCounts)
                ))
        }
        var ours = Timings()
        var theirs: [PeerRuntime.Kind: Timings] = [:]
        for round in 0..<rounds {
            for (threads, model) in zip(threadCounts, models) {
                // One thread: every engine on the same CPU, a different one each round.
                let cpu = threads == 1 ? round : nil
                for _ in 0..<passes {
                    ours.single[threads, default: []].append(
                        Self.milliseconds(onCPU: cpu) { _ = model.forward(single, count: 1) })
                    for peer in peers {
                        theirs[peer.kind, default: Timings()].single[threads, default: []] +=
                            try peer.session.singlePasses(threads: threads, count: 1, cpu: cpu)
                    }
                }
                ours.batches[threads, default: []].append(
                    Self.milliseconds(onCPU: cpu) { _ = model.forward(input, count: batch) })
                for peer in peers {
                    theirs[peer.kind, default: Timings()].batches[threads, default: []].append(
                        try peer.session.batchPass(threads: threads, cpu: cpu))
                }
            }
        }
        let latency = threadCounts.map { ours.latency(threads: $0) }
        let throughput = threadCounts.map { ours.throughput(threads: $0, batch: batch) }
        func report(_ kind: PeerRuntime.Kind) -> PeerRuntime.Report? {
            guard let session = peers.first(where: { $0.kind == kind })?.session, let timings = theirs[kind] else { return nil }
            return PeerRuntime.Report(
                version: session.version, latency: threadCounts.map { timings.latency(threads: $0) },
                throughput: threadCounts.map { timings.throughput(threads: $0, batch: batch) },
                maxLogitDifference: session.maxLogitDifference)
        }
        func ratios(_ kind: PeerRuntime.Kind) -> [Ratios] {
            guard let timings = theirs[kind] else { return [] }
            return threadCounts.map { threads in
                Ratios(
                    threads: threads, latencyMedian: Timings.medianRatio(ours.single[threads], timings.single[threads]),
                    throughput: Timings.medianRatio(timings.batches[threads], ours.batches[threads]))
            }
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
            endToEnd = EndToEnd(
                folder: folder, images: files.count, failed: failed,
                imagesPerSecond: Double(files.count) / (elapsed / 1000))
        }
        return Report(
            model: "\(first.name) v\(first.version)", blasCore: BLAS.core,
            instructionSet: InstructionSet.engine.name, rounds: rounds, latency: latency,
            throughput: throughput, endToEnd: endToEnd, onnxRuntime: report(.onnxRuntime),
            onnxRuntimeSkipped: skipped[.onnxRuntime], ratios: ratios(.onnxRuntime), openVINO: report(.openVINO),
            openVINOSkipped: skipped[.openVINO], openVINORatios: ratios(.openVINO),
            peakRssMB: ProcessMemory.peakResidentMegabytes())
    }

    /// Pass times of one engine, by thread count.
    private struct Timings {
        var single: [Int: [Double]] = [:]
        var batches: [Int: [Double]] = [:]

        func latency(threads: Int) -> Latency {
            let times = (single[threads] ?? []).sorted()
            guard !times.isEmpty else { return Latency(threads: threads, medianMs: 0, p90Ms: 0) }
            return Latency(
                threads: threads, medianMs: times[times.count / 2],
                p90Ms: times[min(times.count - 1, times.count * 9 / 10)])
        }

        /// The median of `numerators[i] / denominators[i]`.
        static func medianRatio(_ numerators: [Double]?, _ denominators: [Double]?) -> Double {
            let ratios = zip(numerators ?? [], denominators ?? []).map { $0 / $1 }.sorted()
            return ratios.isEmpty ? 0 : ratios[ratios.count / 2]
        }

        func throughput(threads: Int, batch: Int) -> Throughput {
            let times = batches[threads] ?? []
            let total = times.reduce(0, +)
            return Throughput(
                threads: threads, batch: batch,
                imagesPerSecond: total > 0 ? Double(batch * times.count) / (total / 1000) : 0)
        }
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

    /// `milliseconds(work)` with the calling thread pinned to the `cpu`-th CPU it may use, if given.
    private static func milliseconds(onCPU cpu: Int?, _ work: () -> Void) -> Double {
        guard let cpu else { return milliseconds(work) }
        var elapsed = 0.0
        CPUPinning.run(onCPU: cpu) { elapsed = milliseconds(work) }
        return elapsed
    }
}
