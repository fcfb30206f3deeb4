import ArgumentParser
import FishServices

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a model version for other runtimes (ONNX: NCHW float input, logits and embedding outputs).")

    @Option(help: "Output format.") var format = "onnx"
    @Option(help: "The model (default: the base model).") var model: String?
    @Option(help: "The version (default: production, else the latest).") var version: Int?
    @Option(name: .shortAndLong, help: "Where to write the file.") var output: String

    func validate() throws {
        guard ExportService.Format(rawValue: format) != nil else {
            throw ValidationError(
                "unknown format \(format); supported: \(ExportService.Format.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let service = ExportService(context: try makeContext())
        let data = try reporting { try service.onnx(model: model, version: version) }
        try reporting { try ExportService.write(data, to: output) }
        print("wrote \(output) (\(data.count) bytes)")
    }
}
