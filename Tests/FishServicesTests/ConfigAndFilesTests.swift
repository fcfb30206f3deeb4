import FishServices
import FishTestSupport
import Foundation
import Testing

@Suite struct ConfigAndFilesTests {
    @Test func environmentOverridesDefaults() throws {
        let config = try FishConfig.fromEnvironment([
            "FISHOPS_HOME": "/srv/fish", "FISHOPS_THREADS": "3", "FISHOPS_MAX_PIXELS": "1000",
        ])
        #expect(config.home.path == "/srv/fish" && config.threads == 3 && config.maxPixels == 1000)
        let defaults = try FishConfig.fromEnvironment([:])
        #expect(defaults.home.lastPathComponent == ".fishops" && defaults.threads >= 1)
    }

    @Test func badSettingsAreExplained() {
        #expect(throws: ServiceError.badConfiguration("FISHOPS_THREADS=many is not a positive whole number")) {
            _ = try FishConfig.fromEnvironment(["FISHOPS_THREADS": "many"])
        }
        #expect(throws: ServiceError.self) { _ = try FishConfig.fromEnvironment(["FISHOPS_MAX_PIXELS": "-5"]) }
        #expect(throws: ServiceError.self) {
            _ = try FishConfig.fromEnvironment(["FISHOPS_THREADS": "\(FishConfig.maxThreads + 1)"])
        }
        #expect(
            throws: ServiceError.badConfiguration(
                "FISHOPS_HOME is set but empty; unset it to use ~/.fishops, or set it to a folder")
        ) {
            _ = try FishConfig.fromEnvironment(["FISHOPS_HOME": ""])
        }
        #expect {
            _ = try FishConfig.fromEnvironment(["FISHOPS_KERNELS": "sse9"])
        } throws: { error in
            "\(error)".contains("FISHOPS_KERNELS=sse9 is not one of baseline, avx2, avx512; unset it to use the best")
        }
        #expect(throws: Never.self) { _ = try FishConfig.fromEnvironment(["FISHOPS_KERNELS": "baseline"]) }
    }

    @Test func foldersAreSearchedForImagesOnly() throws {
        let root = try Fixtures.temporaryDirectory()
        let manager = FileManager.default
        try manager.createDirectory(at: root.appendingPathComponent("cod/deep"), withIntermediateDirectories: true)
        for name in ["cod/b.JPG", "cod/a.png", "cod/deep/c.jpeg", "cod/notes.txt", "manifest.csv"] {
            try Data().write(to: root.appendingPathComponent(name))
        }
        let home = try Fixtures.temporaryDirectory()
        let service = ClassificationService(context: try ServiceContext(config: FishConfig(home: home, threads: 1)))
        let explicit = root.appendingPathComponent("cod/notes.txt").path
        let (files, unusable) = service.collectFiles([root.path, explicit, "/nonexistent.jpg"])
        #expect(files == ["cod/a.png", "cod/b.JPG", "cod/deep/c.jpeg"].map { root.appendingPathComponent($0).path } + [explicit])
        #expect(unusable.map(\.path) == ["/nonexistent.jpg"])
        #expect(unusable.map(\.message) == ["/nonexistent.jpg: no such file or directory"])
    }
}
