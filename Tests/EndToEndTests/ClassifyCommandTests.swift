import FishTestSupport
import Foundation
import Testing

/// `fishops classify` and `fishops weights import` as an operator runs them.
@Suite(
    .enabled(if: Fixtures.binary != nil, "needs the fishops binary (swift build)"),
    .enabled(if: Fixtures.weightsAvailable, "needs the pretrained weights (make setup)"))
struct ClassifyCommandTests {
    /// A FishOps home with the base model imported through the CLI.
    static func homeWithBaseModel() throws -> URL {
        let home = try Fixtures.temporaryDirectory()
        let run = try FishOpsProcess.run(["weights", "import", Fixtures.weights.path, "--json"], home: home)
        try #require(run.status == 0, "import failed: \(run.stderr)")
        return home
    }

    @Test(.enabled(if: Fixtures.sharedAvailable, "needs ../shared/reference"))
    func jsonLinesFollowTheContract() throws {
        let home = try Self.homeWithBaseModel()
        let images = Fixtures.shared.appendingPathComponent("reference/images")
        let run = try FishOpsProcess.run(["classify", images.path, "--json", "--top", "3"], home: home)
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.jsonLines
        #expect(lines.count == 4)
        let coffee = try #require(lines.first { ($0["file"] as? String)?.hasSuffix("coffee.png") == true })
        let model = try #require(coffee["model"] as? [String: Any])
        #expect(model["name"] as? String == "imagenet-lite0" && model["version"] as? Int == 1)
        let top = try #require(coffee["top"] as? [[String: Any]])
        #expect(top.count == 3)
        #expect(top.first?["label"] as? String == "espresso" && top.first?["index"] as? Int == 967)
        #expect(abs((top.first?["probability"] as? Double ?? 0) - 0.956652) < 1e-4)
        #expect((coffee["ms"] as? Double ?? -1) > 0)
    }

    @Test func badFilesAreListedAndTheBatchGoesOn() throws {
        let home = try Self.homeWithBaseModel()
        let folder = try Fixtures.temporaryDirectory()
        let good = folder.appendingPathComponent("good.png")
        try TestImages.png(TestImages.gradient(width: 300, height: 200), width: 300, height: 200, colorType: .rgb).write(to: good)
        let truncated = folder.appendingPathComponent("truncated.jpg")
        let jpeg = try TestImages.jpeg(TestImages.gradient(width: 64, height: 64), width: 64, height: 64)
        try jpeg.prefix(jpeg.count / 2).write(to: truncated)
        let empty = folder.appendingPathComponent("empty.png")
        try Data().write(to: empty)

        let json = try FishOpsProcess.run(["classify", folder.path, "/nonexistent/x.jpg", "--json"], home: home)
        #expect(json.status == 1)
        let lines = json.jsonLines
        #expect(lines.count == 4)
        #expect(lines.filter { $0["top"] != nil }.map { $0["file"] as? String } == [good.path])
        let errors = Dictionary(
            uniqueKeysWithValues: lines.compactMap { line in
                (line["error"] as? String).map { (line["file"] as? String ?? "", $0) }
            })
        #expect(errors[truncated.path]?.contains("truncated") == true)
        #expect(errors[empty.path]?.contains("empty") == true)
        #expect(errors["/nonexistent/x.jpg"]?.contains("no such file") == true)

        let text = try FishOpsProcess.run(["classify", folder.path], home: home)
        #expect(text.status == 1)
        #expect(text.stdout.contains(good.path))
        #expect(text.stderr.contains("2 of 3 files failed"))
    }

    @Test func importRefusesForeignFiles() throws {
        let home = try Fixtures.temporaryDirectory()
        let path = try Fixtures.file(named: "weights.pth", contents: Data("PK but not really".utf8))
        let run = try FishOpsProcess.run(["weights", "import", path], home: home)
        #expect(run.status != 0)
        #expect(run.stderr.contains(path))
        #expect(
            (try? FileManager.default.contentsOfDirectory(atPath: home.appendingPathComponent("models").path))?.isEmpty ?? true)
    }

    @Test(.enabled(if: Fixtures.sharedAvailable, "needs ../shared/datasets"))
    func wholeFishDatasetClassifies() throws {
        let home = try Self.homeWithBaseModel()
        let dataset = Fixtures.shared.appendingPathComponent("datasets/large-scale-fish")
        let run = try FishOpsProcess.run(["classify", dataset.path, "--json", "--top", "1"], home: home)
        #expect(run.status == 0, "\(run.stderr.suffix(2000))")
        let lines = run.jsonLines
        #expect(lines.count == 540)
        #expect(lines.allSatisfy { $0["top"] != nil })
    }
}
