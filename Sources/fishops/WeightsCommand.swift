import ArgumentParser
import FishServices

struct Weights: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage pretrained weights.", subcommands: [Import.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import EfficientNet-Lite0, Lite1 or Lite2 ImageNet weights as a base model.",
            discussion: """
                Reads PyTorch checkpoints (legacy and zip formats) and safetensors natively, and finds the \
                family member from the tensors. Registered as imagenet-lite0, imagenet-lite1 or imagenet-lite2 \
                unless --name says otherwise (`make weights-lite2` fetches and imports Lite2).
                """)

        @Argument(help: "The checkpoint file (.pth, .pt or .safetensors).")
        var file: String

        @Option(help: "Registered model to add the version to (default: imagenet-<member>).")
        var name: String?

        @Flag(help: "Print the result as JSON.")
        var json = false

        func run() throws {
            let service = WeightsService(context: try makeContext())
            let result = try reporting { try service.importImageNetWeights(path: file, name: name) }
            if json {
                print(jsonLine(result))
            } else {
                let verb = result.created ? "imported as" : "already imported as"
                print("\(file): \(verb) \(result.name) v\(result.version) (\(result.directory))")
            }
        }
    }
}
