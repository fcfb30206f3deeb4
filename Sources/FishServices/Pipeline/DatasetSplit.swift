import FishNeural
import Foundation

/// Which part of the data an image serves.
public enum SplitPart: String, Sendable, Codable, CaseIterable {
    case train, validation, test
}

/// A deterministic train/validation/test split, stratified by class and group-aware: a group
/// (near-duplicate cluster or manifest group) lies wholly in one part.
public struct DatasetSplit: Sendable {
    /// The part of each image of the prepared dataset.
    public let parts: [SplitPart]

    /// Splits `dataset` with `seed`: per class, its groups are shuffled and dealt to test until
    /// it holds `testFraction` of the class's images, then to validation, the rest to train.
    /// A class with fewer than three groups goes wholly to train (it cannot be evaluated).
    public init(_ dataset: PreparedDataset, seed: UInt64, validationFraction: Double, testFraction: Double) {
        var parts = [SplitPart](repeating: .train, count: dataset.images.count)
        let membersByGroup = Dictionary(grouping: dataset.images.indices) { dataset.groups[$0] }
        for classIndex in dataset.classNames.indices {
            // Groups carry one label (conflicts were removed), so a group belongs to one class.
            var groups = membersByGroup.filter { dataset.labels[$0.value[0]] == classIndex }
                .map { (id: $0.key, members: $0.value) }
                .sorted { $0.id < $1.id }
            guard groups.count >= 3 else { continue }
            var random = SeededRandom(seed, UInt64(classIndex))
            groups.shuffle(using: &random)
            let total = groups.reduce(0) { $0 + $1.members.count }
            let testTarget = Double(total) * testFraction
            let validationTarget = Double(total) * validationFraction
            var testCount = 0
            var validationCount = 0
            for (position, group) in groups.enumerated() {
                let remaining = groups.count - position
                let part: SplitPart
                if testCount == 0 || (Double(testCount) < testTarget && remaining > 2) {
                    part = .test
                    testCount += group.members.count
                } else if validationCount == 0 || (Double(validationCount) < validationTarget && remaining > 1) {
                    part = .validation
                    validationCount += group.members.count
                } else {
                    part = .train
                }
                for member in group.members { parts[member] = part }
            }
        }
        self.parts = parts
    }

    /// What an operator should know about how `dataset`'s groups were dealt: classes left out of
    /// evaluation, and test parts that rest on a single group.
    public func warnings(_ dataset: PreparedDataset) -> [String] {
        dataset.classNames.indices.compactMap { classIndex in
            let members = dataset.images.indices.filter { dataset.labels[$0] == classIndex }
            let label = dataset.classNames[classIndex]
            let groups = Set(members.map { dataset.groups[$0] }).count
            if groups < 3 {
                return
                    "\(label): \(members.count) images in \(groups) group(s), too few to hold out validation and test; trained on, not evaluated"
            }
            let test = members.filter { parts[$0] == .test }
            if test.count > 1, Set(test.map { dataset.groups[$0] }).count == 1 {
                return
                    "\(label): its \(test.count) test images are one group of \(groups); its test score rests on one individual"
            }
            return nil
        }
    }

    /// Indices of the images in `part`.
    public func indices(_ part: SplitPart) -> [Int] {
        parts.indices.filter { parts[$0] == part }
    }

    /// A fingerprint of the test images and their labels: versions evaluated on the same
    /// fingerprint can be compared by the promotion gate.
    public func testFingerprint(_ dataset: PreparedDataset) -> String {
        let lines = indices(.test).map { "\(dataset.images[$0].sha256) \(dataset.images[$0].label)" }.sorted()
        return "test:" + ModelPackage.sha256(Data(lines.joined(separator: "\n").utf8)).prefix(16)
    }
}
