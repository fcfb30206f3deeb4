import ArgumentParser
import FishServices
import Foundation

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify image files (JPEG, PNG); folders are searched recursively.")

    @Argument(help: "Image files and folders.")
    var paths: [String]

    @Option(help: "The model to use (default: the base model); models:/NAME@ALIAS or models:/NAME/VERSION: from MLflow.")
    var model: String?

    @Option(help: "How many classes to show per image.")
    var top = 5

    @Option(help: "Compute threads (default: all cores, or $FISHOPS_THREADS).")
    var threads: Int?

    @Flag(help: "Print one JSON object per line and file.")
    var json = false

    func validate() throws {
        guard top > 0 else { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        let service = ClassificationService(context: try makeContext(threads: threads))
        let loaded = try reporting { try service.loadModel(name: model) }
        let (files, unusable) = service.collectFiles(paths)
        var failures = unusable.map(\.message)
        if json {
            for path in unusable { print(jsonLine(FileErrorLine(file: path.path, error: path.message))) }
        }
        let progress = ProgressBar(total: files.count, enabled: files.count > 1 && isatty(STDERR_FILENO) == 1)
        service.classify(files: files, model: loaded, top: top) { result in
            progress.advance()
            switch result.outcome {
            case let .success(predictions):
                if json {
                    print(
                        jsonLine(
                            FileResultLine(
                                file: result.file, model: result.model, top: predictions,
                                ms: (result.milliseconds * 100).rounded() / 100)))
                } else {
                    progress.clear()
                    print(String(format: "%@  (%.1f ms)", result.file, result.milliseconds))
                    for prediction in predictions {
                        print(String(format: "  %6.2f%%  %@", prediction.probability * 100, prediction.label))
                    }
                }
            case let .failure(error):
                failures.append(error.message)
                if json { print(jsonLine(FileErrorLine(file: result.file, error: error.message))) }
            }
        }
        progress.clear()
        guard !failures.isEmpty else { return }
        if !json {
            printError("\n\(failures.count) of \(files.count + unusable.count) files failed:")
            failures.forEach { printError("  \($0)") }
        }
        throw ExitCode.failure
    }
}

/// One `--json` line for a classified file.
struct FileResultLine: Encodable {
    let file: String
    let model: ClassificationService.ModelReference
    let top: [Prediction]
    let ms: Double
}

/// One `--json` line for a file that failed.
struct FileErrorLine: Encodable {
    let file: String
    let error: String
}
