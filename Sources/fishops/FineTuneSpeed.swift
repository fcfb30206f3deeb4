import ArgumentParser
import FishBenchmarks
import FishServices
import Foundation

struct FineTuneSpeed: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Time fine-tuning: the trainable tail's forward + backward at batch 32, input preparation, and one epoch.")

    @Option(help: "Image folder of <class>/<image> files (default: $FISHOPS_DATA, else the current folder).")
    var data: String?
    @Option(help: "Images in the epoch.") var images = 1000
    @Option(help: "First trainable block (12: the last 4).") var unfreezeFrom = 12
    @Flag(help: "Print the report as JSON.") var json = false

    func run() throws {
        let context = try makeContext()
        let report = try reporting {
            try FineTuneBenchmark(context: context).run(
                data: context.config.imageFolder(data), images: images, unfreezeFrom: unfreezeFrom)
        }
        if json { return print(jsonLine(report)) }
        print(
            String(
                format: "trainable tail from block %d, batch %d: forward + backward %.3f s per batch (%.1f images/s)",
                report.unfreezeFrom, report.batchSize, report.tailSecondsPerBatch, report.tailImagesPerSecond))
        print(
            String(format: "inputs (decode, augment, frozen blocks; all threads): %.3f s per batch", report.inputSecondsPerBatch))
        print(
            String(
                format: "one epoch over %d images: %.1f s (%.1f images/s, %.1f s per 1,000 images); peak RSS %.0f MB",
                report.images, report.epochSeconds, report.epochImagesPerSecond, report.secondsPer1000Images, report.peakRssMB))
    }
}
