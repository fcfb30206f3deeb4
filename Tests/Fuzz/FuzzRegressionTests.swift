import FishFuzzHarnesses
import FishTestSupport
import Foundation
import Testing

/// Every input a fuzz run found a crash with (kept by `make fuzz` in
/// `Tests/Fuzz/regressions/<harness>/`), and every seed, run through its harness again: each must
/// now end without a crash.
@Suite struct FuzzRegressionTests {
    static let folder = Fixtures.root.appendingPathComponent("Tests/Fuzz")

    static func inputs(_ kind: String, _ harness: FuzzHarness) -> [URL] {
        let directory = folder.appendingPathComponent("\(kind)/\(harness.rawValue)")
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { !$0.hasPrefix(".") }.sorted().map { directory.appendingPathComponent($0) }
    }

    @Test(arguments: FuzzHarness.allCases)
    func keptInputsRunCleanly(harness: FuzzHarness) throws {
        let files = Self.inputs("regressions", harness) + Self.inputs("seeds", harness)
        try #require(!files.isEmpty, "Tests/Fuzz/seeds/\(harness.rawValue) holds the harness's seeds")
        for file in files { harness.run(try Data(contentsOf: file)) }
    }
}
