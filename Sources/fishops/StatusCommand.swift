import ArgumentParser
import FishServices
import Foundation

/// `fishops` with no arguments: what is installed and where to go next.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the installed models and how to start.")

    func run() throws {
        let context = try makeContext()
        let models = try reporting { try RegistryService(context: context).models() }
        print("FishOps home: \(context.config.home.path)  (threads: \(context.config.threads))")
        if models.isEmpty {
            print("No models installed. Run `make setup` or `fishops weights import FILE`.")
        } else {
            print("Models:")
            for model in models {
                let aliases = model.aliases.sorted { $0.key < $1.key }.map { "\($0.key)=v\($0.value)" }.joined(separator: " ")
                print("  \(model.name)  \(model.versionCount) version(s), latest v\(model.latestVersion ?? 0)  \(aliases)")
            }
        }
        print("\nClassify photos:  fishops classify PATH... [--top K] [--model NAME] [--json]")
        print("Train:            fishops train --data DIR [--trials N] [--json]   (docs/training.md)")
        print("Registry:         fishops models list | show NAME | history NAME | promote | rollback")
        print("All commands:     fishops --help")
    }
}
