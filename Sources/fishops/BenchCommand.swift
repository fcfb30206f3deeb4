import ArgumentParser
import FishBenchmarks
import FishServices
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the engine, the classify pipeline, training, the store, serving and the worker backends.",
        subcommands: [
            Engine.self, TrainSpeed.self, ConsoleSpeed.self, StoreSpeed.self, ServeSpeed.self, ClusterSpeed.self,
            FineTuneSpeed.self,
        ], defaultSubcommand: Engine.self)
}

struct ServeSpeed: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Load `fishops serve` with wrk on loopback (uncached, half load, cached) beside the engine's own speed.")

    @Option(help: "Images sent (JPEG or PNG files under this folder; default: $FISHOPS_DATA, else the current folder).")
    var images: String?
    @Option(help: "Seconds per load.") var seconds = 10.0
    @Option(help: "Model served (default: the configured model).") var model: String?
    @Flag(help: "Print the report as JSON.") var json = false

    func run() throws {
        let context = try makeContext()
        let executable = FishConfig.ownExecutable.path
        let report = try reporting {
            try ServeBenchmark(context: context, executable: executable).run(
                folder: context.config.imageFolder(images), seconds: seconds, model: model)
        }
        if json { return print(jsonLine(report)) }
        print(
            String(
                format: "engine (%@): batch-32 %.1f images/s, single image %.2f ms", report.model,
                report.engineBatch32ImagesPerSecond, report.engineSingleImageMs))
        for load in [report.idle, report.uncached, report.halfLoad, report.cached] {
            print(
                load.name.padding(toLength: 10, withPad: " ", startingAt: 0)
                    + String(
                        format:
                            "%3d connections: %8.1f requests/s, p50 %7.2f ms, p95 %7.2f ms, p99 %7.2f ms, %d errors, %d non-2xx",
                        load.connections, load.requestsPerSecond, load.p50Ms, load.p95Ms, load.p99Ms, load.errors, load.non2xx))
        }
        print(
            String(
                format: "uncached / engine batch-32: %.2f (goal >= 0.90); cached: %.0f requests/s (goal >= 5000); "
                    + "p95 at half load / single-image latency: %.2f (goal <= 2)", report.uncachedToEngine,
                report.cached.requestsPerSecond, report.halfLoadP95ToSingle))
    }
}

struct ConsoleSpeed: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Time console frames during a key burst while training runs (scratch home, no terminal).")

    @Option(help: "Image folder trained on meanwhile (default: $FISHOPS_DATA, else the current folder).") var data: String?
    @Option(help: "Length of the burst.") var seconds = 20.0
    @Flag(help: "Print the report as JSON.") var json = false

    func run() throws {
        let context = try makeContext()
        let report = try reporting {
            try ConsoleBenchmark.run(context: context, data: context.config.imageFolder(data), seconds: seconds)
        }
        if json { return print(jsonLine(report)) }
        print(
            String(
                format: "console frames during a %.0f s key burst with training in the background: %d frames, "
                    + "p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms, %d over 50 ms", report.seconds, report.frames,
                report.p50Ms, report.p95Ms, report.p99Ms, report.maxMs, report.slowFrames))
    }
}

struct TrainSpeed: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Time the training pipeline cold and with cached features, in a scratch home.")

    @Option(help: "Image folder (default: $FISHOPS_DATA, else the current folder).")
    var data: String?
    @Option(help: "Data-set size to project the cold time to.") var project = 9_000
    @Flag(help: "Print the report as JSON.") var json = false

    func run() throws {
        let context = try makeContext()
        let report = try reporting {
            try TrainingBenchmark(context: context).run(data: context.config.imageFolder(data), projectTo: project)
        }
        if json { return print(jsonLine(report)) }
        print(
            String(
                format: "train on %@ (%d images): %.1f s cold (scan %.1f, features %.1f, head %.1f), %.1f s with cached features",
                report.data, report.images, report.coldSeconds, report.stages["scan"] ?? 0, report.stages["features"] ?? 0,
                report.stages["train"] ?? 0, report.warmSeconds))
        print(
            String(
                format: "feature extraction: %.1f images/s; test accuracy %.4f, macro-F1 %.4f",
                report.featureImagesPerSecond, report.testAccuracy, report.testMacroF1))
        print(
            String(
                format: "projected cold time for %d images: %.0f s (%.1f min)", report.projectedImages,
                report.projectedSeconds, report.projectedSeconds / 60))
    }
}

struct StoreSpeed: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Measure metric logging and run listing in a scratch store.")

    @Option(help: "Where to create the scratch store (default: a new temporary folder, removed afterwards).")
    var directory: String?
    @Option(help: "Metric points to log into one run.") var points = 100_000
    @Option(help: "Runs to create and list.") var runs = 10_000
    @Option(help: "64 KiB artifacts to write.") var artifacts = 100
    @Flag(help: "Print the report as JSON.") var json = false

    func run() throws {
        let scratch =
            directory.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("fishops-bench-\(UUID().uuidString)")
        defer { if directory == nil { try? FileManager.default.removeItem(at: scratch) } }
        let report = try reporting {
            try StoreBenchmark().run(directory: scratch, points: points, runs: runs, artifacts: artifacts)
        }
        if json { return print(jsonLine(report)) }
        print(
            String(
                format: "log %d metric points (batches of %d): %.2f s, %.0f points/s", report.metricPoints,
                report.batchSize, report.logSeconds, report.pointsPerSecond))
        print(String(format: "one-point transactions: %.0f/s", report.singlePointWritesPerSecond))
        print(String(format: "%d artifacts of 64 KiB: %.2f s", report.artifacts, report.artifactSeconds))
        print(String(format: "list %d runs with best/last metrics: %.1f ms", report.runs, report.listMilliseconds))
    }
}

struct Engine: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure engine latency and throughput, and end-to-end classify speed.")

    @Option(help: "The model to measure (default: the base model).")
    var model: String?

    @Option(help: "Folder to classify end to end (default: $FISHOPS_DATA when set, else none).")
    var folder: String?

    @Option(help: "Images per batch for the throughput figures.")
    var batch = 32

    @Option(help: "Python with onnxruntime and numpy, for the side-by-side figures (default: $FISHOPS_PYTHON).")
    var python: String?

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let context = try makeContext()
        let config = context.config
        let chosenFolder = folder ?? config.dataFolder
        let threadCounts = Array(Set([1, config.threads])).sorted()
        let report = try reporting {
            try BenchmarkService(context: context).run(
                model: model, threadCounts: threadCounts, batch: batch, folder: chosenFolder,
                python: python ?? ProcessInfo.processInfo.environment["FISHOPS_PYTHON"])
        }
        if json {
            print(jsonLine(report))
            return
        }
        let peers: [(PeerRuntime.Kind, PeerRuntime.Report?, String?, [BenchmarkService.Ratios])] = [
            (.onnxRuntime, report.onnxRuntime, report.onnxRuntimeSkipped, report.ratios),
            (.openVINO, report.openVINO, report.openVINOSkipped, report.openVINORatios),
        ]
        let ran = peers.filter { $0.1 != nil }.map(\.0.name)
        print(
            "model \(report.model), engine kernels: \(report.instructionSet), \(report.rounds) rounds"
                + (ran.isEmpty ? "" : ", passes alternating with " + ran.joined(separator: " and ")))
        for entry in report.latency {
            print(
                String(format: "batch 1, %d thread(s): median %.2f ms, p90 %.2f ms", entry.threads, entry.medianMs, entry.p90Ms))
        }
        for entry in report.throughput {
            print(String(format: "batch %d, %d thread(s): %.1f images/s", entry.batch, entry.threads, entry.imagesPerSecond))
        }
        for (kind, peer, skipped, ratios) in peers {
            guard let peer else {
                if let skipped { print("\(kind.name) comparison skipped: \(skipped)") }
                continue
            }
            print(
                "\(kind.name) \(peer.version) on the exported graph of the same weights "
                    + String(format: "(max |logit difference| %.2g):", peer.maxLogitDifference))
            for entry in peer.latency {
                print(
                    String(
                        format: "  batch 1, %d thread(s): median %.2f ms, p90 %.2f ms", entry.threads, entry.medianMs, entry.p90Ms
                    ))
            }
            for entry in peer.throughput {
                print(
                    String(format: "  batch %d, %d thread(s): %.1f images/s", entry.batch, entry.threads, entry.imagesPerSecond))
            }
            for ratio in ratios {
                print(
                    String(
                        format:
                            "ours/%@ (median of back-to-back pairs), %d thread(s): latency %.2f (<= 1 is as fast or faster), throughput %.2f (>= 1 is as fast or faster)",
                        kind.shortName, ratio.threads, ratio.latencyMedian, ratio.throughput))
            }
        }
        if let endToEnd = report.endToEnd {
            print(
                String(
                    format: "classify %@: %d images (%d failed), %.1f images/s", endToEnd.folder, endToEnd.images,
                    endToEnd.failed, endToEnd.imagesPerSecond))
        }
        print(String(format: "peak RSS: %.0f MB", report.peakRssMB))
    }
}
