import ArgumentParser
import FishServices

struct Weights: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage pretrained weights.", subcommands: [Import.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import EfficientNet-Lite0 ImageNet weights as the base model.",
            discussion: "Reads PyTorch checkpoints (legacy and zip formats) and safetensors natively.")

        @Argument(help: "The checkpoint file (.pth, .pt or .safetensors).")
        var file: String

        @Flag(help: "Print the result as JSON.")
        var json = false

        func run() throws {
            let service = WeightsService(context: try makeContext())
            let result = try reporting { try service.importImageNetWeights(path: file) }
            if json {
                print(jsonLine(result))
            } else {
                let verb = result.created ? "imported as" : "already imported as"
                print("\(file): \(verb) \(result.name) v\(result.version) (\(result.directory))")
            }
        }
    }
}
