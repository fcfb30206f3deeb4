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

    /// `FISHOPS_KERNELS` forces each kernel build this CPU runs, with the answers of the best one;
    /// a name it does not know, or a build this CPU lacks, is refused before any work.
    @Test(.enabled(if: Fixtures.sharedAvailable, "needs ../shared/reference"))
    func forcedKernelBuildsAgreeAndImpossibleOnesAreRefused() throws {
        let home = try Self.homeWithBaseModel()
        let images = Fixtures.shared.appendingPathComponent("reference/images").path
        func answers(_ environment: [String: String]) throws -> [String: (String, Double)] {
            let run = try FishOpsProcess.run(["classify", images, "--json", "--top", "1"], home: home, environment: environment)
            try #require(run.status == 0, "\(environment): \(run.stderr)")
            return Dictionary(
                uniqueKeysWithValues: run.jsonLines.compactMap { line in
                    guard let file = line["file"] as? String, let top = (line["top"] as? [[String: Any]])?.first,
                        let label = top["label"] as? String, let probability = top["probability"] as? Double
                    else { return nil }
                    return (file, (label, probability))
                })
        }
        let best = try answers([:])
        #expect(best.count == 4)
        let sets = ["baseline", "avx2", "avx512"]
        let supported = sets.filter { set in
            (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)).map { info in
                set == "baseline" || (set == "avx2" && info.contains(" avx2") && info.contains(" fma"))
                    || (set == "avx512"
                        && ["avx512f", "avx512vl", "avx512dq", "avx512bw"].allSatisfy { info.contains(" \($0)") })
            } ?? (set == "baseline")
        }
        for set in supported {
            let forced = try answers(["FISHOPS_KERNELS": set])
            #expect(forced.keys.sorted() == best.keys.sorted())
            for (file, answer) in forced {
                #expect(answer.0 == best[file]?.0, "\(set): \(file)")
                #expect(abs(answer.1 - (best[file]?.1 ?? 0)) < 1e-4, "\(set): \(file)")
            }
        }
        for name in ["sse9"] + sets.filter({ !supported.contains($0) }) {
            let run = try FishOpsProcess.run(["classify", images], home: home, environment: ["FISHOPS_KERNELS": name])
            #expect(run.status != 0)
            #expect(run.stderr.contains("FISHOPS_KERNELS=\(name)"), "\(run.stderr)")
            #expect(run.stdout.isEmpty)
        }
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
