import FishImaging
import FishServices
import FishTestSupport
import Foundation
import Testing

/// The dataset check and the split: planted problems are found, groups never straddle parts.
@Suite struct DatasetCheckTests {
    func picture(_ seed: UInt64) -> RGBImage {
        RGBImage(width: 96, height: 72, pixels: TestImages.blobs(width: 96, height: 72, seed: seed))
    }

    func write(_ image: RGBImage, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let data =
            url.pathExtension == "png"
            ? try TestImages.png(image.pixels, width: image.width, height: image.height, colorType: .rgb)
            : try TestImages.jpeg(image.pixels, width: image.width, height: image.height)
        try data.write(to: url)
    }

    func scan(_ folder: URL, manifest: URL? = nil) throws -> PreparedDataset {
        let scanned = try DatasetScanner(maxPixels: 1_000_000, threads: 2).scan(data: folder, manifest: manifest)
        return PreparedDataset(images: scanned.images, unreadable: scanned.unreadable, nearDuplicateDistance: 24)
    }

    /// A 1x150000 PNG in a training folder crashed every feature-extraction attempt without
    /// naming the file; now the check names it and training goes on without it.
    @Test func degenerateImagesAreNamedByTheCheck() throws {
        let folder = try Fixtures.temporaryDirectory()
        try write(picture(1), to: folder.appendingPathComponent("bream/good.png"))
        let tall = folder.appendingPathComponent("bream/tall.png")
        try TestImages.png([UInt8](repeating: 128, count: 150_000), width: 1, height: 150_000, colorType: .grey).write(to: tall)
        let scanned = try DatasetScanner(maxPixels: 50_000_000, threads: 2).scan(data: folder, manifest: nil)
        #expect(scanned.images.map(\.path) == [folder.appendingPathComponent("bream/good.png").path])
        #expect(scanned.unreadable.map(\.path) == [tall.path])
        #expect(scanned.unreadable.first?.reason.contains("image is 1x150000: one side is over 100 times the other") == true)
    }

    @Test func plantedProblemsAreFound() throws {
        let folder = try Fixtures.temporaryDirectory()
        for seed in 0..<4 {
            try write(picture(UInt64(seed)), to: folder.appendingPathComponent("bream/\(seed).jpg"))
            try write(picture(UInt64(seed + 10)), to: folder.appendingPathComponent("trout/\(seed).jpg"))
        }
        let original = folder.appendingPathComponent("bream/0.jpg")
        // An exact copy in the same class, a flipped copy filed under the other class, a corrupt file.
        try FileManager.default.copyItem(at: original, to: folder.appendingPathComponent("bream/0-copy.jpg"))
        try write(ExifOrientation.mirrored.apply(to: picture(1)), to: folder.appendingPathComponent("trout/flipped-bream.png"))
        let jpeg = try Data(contentsOf: folder.appendingPathComponent("trout/3.jpg"))
        try jpeg.prefix(jpeg.count / 2).write(to: folder.appendingPathComponent("trout/truncated.jpg"))
        try Data("not an image".utf8).write(to: folder.appendingPathComponent("bream/notes.png"))

        let dataset = try scan(folder)
        let check = dataset.check
        let name = { (path: String) in path.replacingOccurrences(of: folder.path + "/", with: "") }
        #expect(Set(check.unreadable.map { name($0.path) }) == ["trout/truncated.jpg", "bream/notes.png"])
        #expect(check.unreadable.allSatisfy { !$0.reason.isEmpty })
        #expect(check.exactDuplicates.map { $0.map(name) } == [["bream/0-copy.jpg", "bream/0.jpg"]])
        #expect(check.conflictingLabels.map { $0.map(name) } == [["bream/1.jpg", "trout/flipped-bream.png"]])
        #expect(check.nearDuplicates.map { $0.map(name) } == [["bream/1.jpg", "trout/flipped-bream.png"]])
        // Kept: bream 0, 2, 3 (the copy and the conflicting pair left out) and trout 0, 1, 2, 3.
        #expect(check.classes.map(\.label) == ["bream", "trout"] && check.classes.map(\.images) == [3, 4])
        #expect(abs(check.imbalanceRatio - 4.0 / 3) < 1e-12)
    }

    @Test func manifestGroupsAndSplitsAreLeakFreeAndReproducible() throws {
        let folder = try Fixtures.temporaryDirectory()
        var lines = ["path,label,group"]
        for index in 0..<60 {
            let label = ["a", "b", "c"][index % 3]
            try write(picture(UInt64(100 + index)), to: folder.appendingPathComponent("img/\(index).png"))
            lines.append("img/\(index).png,\(label),fish-\(label)-\(index / 12)")  // four photos of each fish
        }
        let manifest = folder.appendingPathComponent("manifest.csv")
        try lines.joined(separator: "\n").write(to: manifest, atomically: true, encoding: .utf8)
        let dataset = try scan(folder, manifest: manifest)
        #expect(dataset.images.count == 60 && dataset.classNames == ["a", "b", "c"])

        let split = DatasetSplit(dataset, seed: 5, validationFraction: 0.2, testFraction: 0.2)
        var partOfFish: [String: Set<SplitPart>] = [:]
        for (index, image) in dataset.images.enumerated() {
            partOfFish[image.group ?? "", default: []].insert(split.parts[index])
        }
        #expect(partOfFish.values.allSatisfy { $0.count == 1 }, "a fish on two sides: \(partOfFish)")
        for label in 0..<3 {
            let parts = Set(dataset.images.indices.filter { dataset.labels[$0] == label }.map { split.parts[$0] })
            #expect(parts == Set(SplitPart.allCases), "class \(label) is in every part")
        }
        #expect(DatasetSplit(dataset, seed: 5, validationFraction: 0.2, testFraction: 0.2).parts == split.parts)
        #expect(DatasetSplit(dataset, seed: 6, validationFraction: 0.2, testFraction: 0.2).parts != split.parts)
        #expect(split.testFingerprint(dataset).hasPrefix("test:"))
    }

    /// Video frames named `fish_<track>_<frame>`: `--group-by` keeps each track on one side of
    /// the split, and the check says which classes have too few tracks to be evaluated.
    @Test func fileNameGroupsKeepTracksTogether() throws {
        let folder = try Fixtures.temporaryDirectory()
        var seed: UInt64 = 200
        for (label, tracks) in [("bream", 6), ("trout", 2)] {
            for track in 0..<tracks {
                for frame in 0..<4 {
                    seed += 1
                    try write(picture(seed), to: folder.appendingPathComponent("\(label)/fish_\(1000 + track)_\(frame).png"))
                }
            }
        }
        try write(picture(999), to: folder.appendingPathComponent("bream/unnamed.png"))
        let scanned = try DatasetScanner(maxPixels: 1_000_000, threads: 2).scan(data: folder, manifest: nil)
        let grouped = try FileNameGroups("fish_([0-9]+)_").grouped(scanned.images)
        #expect(grouped.first { $0.path.hasSuffix("bream/fish_1000_0.png") }?.group == "bream/1000")
        #expect(grouped.first { $0.path.hasSuffix("trout/fish_1000_0.png") }?.group == "trout/1000", "groups are per class")
        #expect(grouped.first { $0.path.hasSuffix("unnamed.png") }?.group == nil, "an unmatched name is a group of its own")
        let dataset = PreparedDataset(images: grouped, unreadable: [], nearDuplicateDistance: 24)
        #expect(dataset.check.classes.map(\.groups) == [7, 2])
        let split = DatasetSplit(dataset, seed: 1, validationFraction: 0.2, testFraction: 0.2)
        var partsOfTrack: [String: Set<SplitPart>] = [:]
        for (index, image) in dataset.images.enumerated() {
            partsOfTrack[image.group ?? image.path, default: []].insert(split.parts[index])
        }
        #expect(partsOfTrack.values.allSatisfy { $0.count == 1 }, "a track on two sides: \(partsOfTrack)")
        let warnings = split.warnings(dataset)
        #expect(warnings.count == 1 && warnings[0].hasPrefix("trout: 8 images in 2 group(s)"), "\(warnings)")
        // Without the pattern every frame is its own group and the tracks straddle the split.
        let ungrouped = PreparedDataset(images: scanned.images, unreadable: [], nearDuplicateDistance: 24)
        #expect(ungrouped.check.classes.map(\.groups) == [25, 8])
        // A manifest's group wins over the file name; a pattern that is no regex is refused.
        let manifest = folder.appendingPathComponent("manifest.csv")
        try "bream/fish_1000_0.png,bream,clip-7\nbream/fish_1001_0.png,bream\n".write(
            to: manifest, atomically: true, encoding: .utf8)
        let listed = try DatasetScanner(maxPixels: 1_000_000, threads: 2).scan(data: folder, manifest: manifest).images
        #expect(try FileNameGroups("fish_([0-9]+)_").grouped(listed).map(\.group) == ["clip-7", "bream/1001"])
        #expect(throws: ServiceError.self) { try FileNameGroups("fish_([0-9]+") }
        var spec = TrainingSpec(data: folder.path)
        spec.groupBy = "(["
        #expect(spec.problem?.contains("not a regular expression") == true)
    }

    @Test func badManifestsAndFoldersAreExplained() throws {
        let folder = try Fixtures.temporaryDirectory()
        let manifest = folder.appendingPathComponent("m.csv")
        try "path,label\nonly-a-path\n".write(to: manifest, atomically: true, encoding: .utf8)
        #expect(throws: ServiceError.invalidArgument("\(manifest.path):2: expected path,label[,group], found \"only-a-path\"")) {
            _ = try scan(folder, manifest: manifest)
        }
        let missing = folder.appendingPathComponent("nowhere")
        #expect(throws: ServiceError.self) { _ = try scan(missing) }
        #expect(throws: ServiceError.self) { _ = try scan(folder) }  // a folder without class folders
    }
}
