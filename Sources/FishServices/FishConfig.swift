import FishImaging
import FishNeural
public import Foundation

/// Where FishOps keeps its state and how much of the machine it uses; resolved once, here.
public struct FishConfig: Sendable {
    /// The state folder: `$FISHOPS_HOME`, default `~/.fishops`.
    public var home: URL
    /// Compute threads for the engine: `$FISHOPS_THREADS`, default all cores.
    public var threads: Int
    /// The model `classify` uses when none is named.
    public var defaultModel: String
    /// Largest image accepted, in pixels: `$FISHOPS_MAX_PIXELS`, default 50 MP.
    public var maxPixels: Int
    /// The metric the promotion gate compares: `$FISHOPS_GATE_METRIC`, default `macro_f1`.
    public var gateMetric: String
    /// The image folder the console's train form and the benchmarks start from: `$FISHOPS_DATA`
    /// (nil when unset: the form starts at the current folder, `bench` skips its end-to-end classify).
    public var dataFolder: String?
    /// Servers on other machines to watch, by base URL: `$FISHOPS_SERVERS` (comma-separated), then
    /// the `server = URL` lines of `$FISHOPS_HOME/fishops.conf`.
    public var servers: [String] = []
    /// The MLflow server the store mirrors to, and `models:/` URIs resolve through:
    /// `$FISHOPS_MLFLOW_URI`, then `mlflow_uri` in `$FISHOPS_HOME/fishops.conf`; nil: no mirror.
    public var mlflowURI: String?

    /// The `fishops` binary that worker processes run; nil when FishOps runs as a library
    /// (worker tasks then run on threads of the calling process).
    public var workerExecutable: URL?

    /// The registered name of the ImageNet-pretrained Lite0, the default backbone.
    public static let baseModelName = "imagenet-lite0"
    /// The registered name of an ImageNet-pretrained member of the Lite family.
    static func baseModelName(_ network: EfficientNetLite) -> String {
        "imagenet-" + network.name.replacingOccurrences(of: "efficientnet-", with: "")
    }
    /// Largest decoded image accepted unless FISHOPS_MAX_PIXELS says otherwise.
    public static let defaultMaxPixels = ImageDecoder.defaultMaxPixels

    public init(
        home: URL, threads: Int, defaultModel: String = FishConfig.baseModelName, maxPixels: Int = FishConfig.defaultMaxPixels,
        gateMetric: String = "macro_f1", dataFolder: String? = nil
    ) {
        self.home = home
        self.dataFolder = dataFolder
        self.threads = max(threads, 1)
        self.defaultModel = defaultModel
        self.maxPixels = maxPixels
        self.gateMetric = gateMetric
    }

    /// The configuration from the environment, with defaults for what it does not set.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws(ServiceError)
        -> FishConfig
    {
        if environment["FISHOPS_HOME"]?.isEmpty == true {
            throw .badConfiguration("FISHOPS_HOME is set but empty; unset it to use ~/.fishops, or set it to a folder")
        }
        let home =
            environment["FISHOPS_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".fishops")
        let threads = try positiveInteger(environment, "FISHOPS_THREADS") ?? ProcessInfo.processInfo.activeProcessorCount
        if let problem = threadCountProblem(threads, source: "FISHOPS_THREADS") { throw .badConfiguration(problem) }
        if let name = environment["FISHOPS_KERNELS"], !name.isEmpty,
            case let .failure(problem) = InstructionSet.choice(named: name)
        {
            throw .badConfiguration(
                "FISHOPS_KERNELS=\(name) \(problem); unset it to use the best this CPU runs (\(InstructionSet.best.name))")
        }
        let maxPixels = try positiveInteger(environment, "FISHOPS_MAX_PIXELS") ?? Self.defaultMaxPixels
        let gateMetric = environment["FISHOPS_GATE_METRIC"].flatMap { $0.isEmpty ? nil : $0 } ?? "macro_f1"
        let dataFolder = environment["FISHOPS_DATA"].flatMap { $0.isEmpty ? nil : $0 }
        var config = FishConfig(
            home: home, threads: threads, maxPixels: maxPixels, gateMetric: gateMetric, dataFolder: dataFolder)
        let file = try ConfigFile.load(home: home)
        config.servers = try serverURLs(environment["FISHOPS_SERVERS"] ?? "") + file.servers
        if let uri = environment["FISHOPS_MLFLOW_URI"], !uri.isEmpty {
            config.mlflowURI = try ConfigFile.serverURL(uri, source: "FISHOPS_MLFLOW_URI")
        } else {
            config.mlflowURI = file.mlflowURI
        }
        return config
    }

    /// The running binary (`/proc/self/exe`), which worker processes and scheduled runs start from.
    public static var ownExecutable: URL { URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath() }

    /// The image folder a command works on: `given` (its flag), else `dataFolder`, else the current folder.
    public func imageFolder(_ given: String?) -> String { given ?? dataFolder ?? "." }

    /// The most compute threads accepted: four per core (more only adds switching).
    public static var maxThreads: Int { 4 * ProcessInfo.processInfo.activeProcessorCount }

    /// Why `threads` (from `source`) is not a usable thread count, or nil.
    public static func threadCountProblem(_ threads: Int, source: String) -> String? {
        guard threads >= 1, threads <= maxThreads else {
            return "\(source) must be from 1 to \(maxThreads) (4 per core on this machine); got \(threads)"
        }
        return nil
    }

    /// The server URLs of a comma-separated list (`FISHOPS_SERVERS`, `--server`).
    public static func serverURLs(_ list: String, source: String = "FISHOPS_SERVERS") throws(ServiceError) -> [String] {
        var urls: [String] = []
        for item in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            urls.append(try ConfigFile.serverURL(item, source: source))
        }
        return urls
    }

    private static func positiveInteger(_ environment: [String: String], _ key: String) throws(ServiceError) -> Int? {
        guard let text = environment[key], !text.isEmpty else { return nil }
        guard let value = Int(text), value > 0 else {
            throw .badConfiguration("\(key)=\(text) is not a positive whole number")
        }
        return value
    }

    /// Where model packages live: `models/<name>/<version>/`.
    public var modelsDirectory: URL { home.appendingPathComponent("models") }
}
