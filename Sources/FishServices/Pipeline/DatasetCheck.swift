import FishImaging
import Foundation

/// What the dataset check found: the problems that make reported accuracy lie.
public struct DatasetCheck: Sendable, Codable, Equatable {
    public struct Unreadable: Error, Sendable, Codable, Equatable {
        public let path: String
        public let reason: String
    }

    public struct ClassCount: Sendable, Codable, Equatable {
        public let label: String
        public let images: Int
        /// Groups its images form (near duplicates, a manifest group or a `--group-by` id; an image
        /// in no group counts as one): the split deals out groups, not images.
        public let groups: Int
    }

    /// Images per class, after unreadable files and extra copies of exact duplicates are dropped.
    public let classes: [ClassCount]
    /// Files that could not be decoded (skipped).
    public let unreadable: [Unreadable]
    /// Sets of byte-identical files; only the first of each set is used.
    public let exactDuplicates: [[String]]
    /// Sets of images whose perceptual hashes (flips and quarter turns included) are within the
    /// threshold; each set is kept on one side of the split.
    public let nearDuplicates: [[String]]
    /// Groups (exact or near duplicates, or a manifest group) holding more than one label: the
    /// same picture labelled as two classes. They are left out of training and evaluation.
    public let conflictingLabels: [[String]]
    /// Largest class size over smallest (1 = balanced).
    public let imbalanceRatio: Double
    public let nearDuplicateDistance: Int
    /// Images joined to their most similar image of the same class by `--group-similar` (0 when
    /// not asked).
    public let similarPairs: Int
    /// Where the split could not hold out groups as asked: a class with too few groups to be
    /// evaluated, or test images of a class that all come from one group.
    public internal(set) var splitWarnings: [String] = []

    /// Images used for training and evaluation.
    public var usableImages: Int { classes.reduce(0) { $0 + $1.images } }
}

/// The images a training run uses, with class indices and leak-proof groups.
public struct PreparedDataset: Sendable {
    public let images: [DatasetImage]
    public let classNames: [String]
    /// Class index of each image.
    public let labels: [Int]
    /// Group of each image: images in one group are never split apart.
    public let groups: [Int]
    public internal(set) var check: DatasetCheck

    /// Checks scanned images: drops extra copies of exact duplicates and images whose group
    /// carries conflicting labels, and groups near duplicates, manifest groups and the `similar`
    /// pairs (indices into `scanned`) together.
    public init(
        images scanned: [DatasetImage], unreadable: [DatasetCheck.Unreadable], nearDuplicateDistance: Int,
        similar: [(Int, Int)] = []
    ) {
        var sets = DisjointSets(count: scanned.count)
        // Exact duplicates: same bytes.
        var firstWithDigest: [String: Int] = [:]
        var exactSets: [Int: [Int]] = [:]
        for (index, image) in scanned.enumerated() {
            if let first = firstWithDigest[image.sha256] {
                sets.union(first, index)
                exactSets[first, default: [first]].append(index)
            } else {
                firstWithDigest[image.sha256] = index
            }
        }
        let extraCopies = Set(exactSets.values.flatMap { $0.dropFirst() })
        // Manifest groups.
        var firstInGroup: [String: Int] = [:]
        for (index, image) in scanned.enumerated() {
            guard let group = image.group else { continue }
            if let first = firstInGroup[group] { sets.union(first, index) } else { firstInGroup[group] = index }
        }
        for (a, b) in similar { sets.union(a, b) }
        // Near duplicates: any flip or quarter turn within the Hamming threshold.
        var nearSets = DisjointSets(count: scanned.count)
        for a in scanned.indices {
            for b in (a + 1)..<scanned.count where scanned[a].sha256 != scanned[b].sha256 {
                if scanned[a].hash.distance(to: scanned[b].hash) <= nearDuplicateDistance {
                    sets.union(a, b)
                    nearSets.union(a, b)
                }
            }
        }
        let groups = scanned.indices.map { sets.find($0) }
        var labelsInGroup: [Int: Set<String>] = [:]
        for (index, image) in scanned.enumerated() { labelsInGroup[groups[index], default: []].insert(image.label) }
        let conflicting = Set(labelsInGroup.filter { $0.value.count > 1 }.keys)
        let kept = scanned.indices.filter { !extraCopies.contains($0) && !conflicting.contains(groups[$0]) }

        let classNames = Array(Set(kept.map { scanned[$0].label })).sorted()
        let classIndex = Dictionary(uniqueKeysWithValues: classNames.enumerated().map { ($1, $0) })
        images = kept.map { scanned[$0] }
        self.classNames = classNames
        labels = kept.map { classIndex[scanned[$0].label] ?? 0 }
        self.groups = kept.map { groups[$0] }

        func paths(_ members: [[Int]]) -> [[String]] {
            members.map { $0.map { scanned[$0].path }.sorted() }.sorted { $0[0] < $1[0] }
        }
        let counts = classNames.map { label in
            let members = kept.filter { scanned[$0].label == label }
            return DatasetCheck.ClassCount(label: label, images: members.count, groups: Set(members.map { groups[$0] }).count)
        }
        let sizes = counts.map(\.images)
        check = DatasetCheck(
            classes: counts,
            unreadable: unreadable,
            exactDuplicates: paths(Array(exactSets.values)),
            nearDuplicates: paths(nearSets.members(of: scanned.count).filter { $0.count > 1 }),
            conflictingLabels: paths(
                Dictionary(grouping: scanned.indices) { groups[$0] }.filter { conflicting.contains($0.key) }.map(\.value)),
            imbalanceRatio: (sizes.min() ?? 0) > 0 ? Double(sizes.max() ?? 0) / Double(sizes.min() ?? 1) : 0,
            nearDuplicateDistance: nearDuplicateDistance, similarPairs: similar.count)
    }
}

/// Union-find over `0..<count` with path halving.
struct DisjointSets {
    private var parent: [Int]

    init(count: Int) {
        parent = Array(0..<count)
    }

    mutating func find(_ element: Int) -> Int {
        var element = element
        while parent[element] != element {
            parent[element] = parent[parent[element]]
            element = parent[element]
        }
        return element
    }

    mutating func union(_ a: Int, _ b: Int) {
        let (rootA, rootB) = (find(a), find(b))
        if rootA != rootB { parent[max(rootA, rootB)] = min(rootA, rootB) }
    }

    /// The sets, each listed by its members in order.
    mutating func members(of count: Int) -> [[Int]] {
        Dictionary(grouping: 0..<count) { find($0) }.values.map { $0.sorted() }
    }
}
