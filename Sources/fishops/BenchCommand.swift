import ArgumentParser
import FishServices
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure engine latency and throughput, and end-to-end classify speed.")

    @Option(help: "The model to measure (default: the base model).")
    var model: String?

    @Option(help: "Folder to classify end to end (default: ../shared/datasets/large-scale-fish when present).")
    var folder: String?

    @Option(help: "Images per batch for the throughput figures.")
    var batch = 32

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let config = try loadConfig()
        let defaultFolder = "../shared/datasets/large-scale-fish"
        let chosenFolder = folder ?? (FileManager.default.fileExists(atPath: defaultFolder) ? defaultFolder : nil)
        let threadCounts = Array(Set([1, config.threads])).sorted()
        let report: BenchmarkService.Report
        do {
            report = try BenchmarkService(config: config).run(model: model, threadCounts: threadCounts, batch: batch,
                                                              folder: chosenFolder)
        } catch {
            printError("error: \(error)")
            throw ExitCode.failure
        }
        if json {
            print(jsonLine(report))
            return
        }
        print("model \(report.model), OpenBLAS kernels: \(report.blasCore)")
        for entry in report.latency {
            print(String(format: "batch 1, %d thread(s): median %.2f ms, p90 %.2f ms", entry.threads, entry.medianMs, entry.p90Ms))
        }
        for entry in report.throughput {
            print(String(format: "batch %d, %d thread(s): %.1f images/s", entry.batch, entry.threads, entry.imagesPerSecond))
        }
        if let endToEnd = report.endToEnd {
            print(String(format: "classify %@: %d images (%d failed), %.1f images/s", endToEnd.folder, endToEnd.images,
                         endToEnd.failed, endToEnd.imagesPerSecond))
        }
        print(String(format: "peak RSS: %.0f MB", report.peakRssMB))
    }
}
