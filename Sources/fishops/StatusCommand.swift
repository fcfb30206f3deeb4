import ArgumentParser
import FishServices

/// `fishops` with no arguments: what is installed and where to go next.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the installed models and how to start.")

    func run() throws {
        let config = try loadConfig()
        let library = ModelLibrary(config: config)
        print("FishOps home: \(config.home.path)  (threads: \(config.threads))")
        let names = library.modelNames()
        if names.isEmpty {
            print("No models installed. Run `make setup` or `fishops weights import FILE`.")
        } else {
            print("Models:")
            for name in names {
                let versions = library.versions(of: name).map { "v\($0)" }.joined(separator: ", ")
                print("  \(name)  \(versions)")
            }
        }
        print("\nClassify photos:  fishops classify PATH... [--top K] [--json]")
        print("All commands:     fishops --help")
    }
}
