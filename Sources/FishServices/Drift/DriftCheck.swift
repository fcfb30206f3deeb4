import FishNeural
import Foundation

/// Whether a set of images looks like a version's training data (see docs/drift.md): MMD² on the
/// reference's principal components with a permutation p-value, Kolmogorov-Smirnov per component
/// with a Bonferroni correction, the class mix against the test split's (a chi-square test, and its
/// population stability index as the size of the change), and the drop in mean top-1 confidence.
public struct DriftCheck: Codable, Sendable, Equatable {
    public enum Verdict: String, Codable, Sendable {
        case none, warning, drift
        /// Not enough images to say.
        case insufficient
    }

    /// Images below which no verdict is given.
    public static let minimumImages = 30
    /// Most images of each side the MMD test uses (a seeded sample beyond it).
    public static let mmdSampleLimit = 300
    /// Permutations of the MMD test.
    public static let permutations = 200
    /// p-values at or below `driftLevel` are drift, at or below `warningLevel` a warning.
    public static let driftLevel = 0.01
    public static let warningLevel = 0.05
    /// Drop in mean top-1 confidence that is a warning (0.1) or drift (0.2).
    public static let confidenceWarning = 0.1
    public static let confidenceDrift = 0.2

    public var verdict: Verdict
    public var images: Int
    public var mmd2: Double
    public var mmdPValue: Double
    /// The largest KS statistic over the components, and the smallest p-value times the number of components.
    public var ksStatistic: Double
    public var ksPValue: Double
    /// The chi-square test of the class mix against the test split's, and its PSI.
    public var classMixChiSquare: Double
    public var classMixPValue: Double
    public var classMixPsi: Double
    public var meanConfidence: Double
    public var referenceConfidence: Double
    /// What made the verdict, in words.
    public var reasons: [String]

    /// Compares `projections` (standardised coordinates on the reference's components, one row
    /// per image) and the images' top-1 classes and confidences with `reference`.
    public static func run(
        _ reference: DriftReference, projections: [[Double]], topClasses: [Int], confidences: [Double],
        seed: UInt64 = 1
    ) -> DriftCheck {
        let images = projections.count
        let meanConfidence = confidences.isEmpty ? 0 : confidences.reduce(0, +) / Double(confidences.count)
        guard images >= minimumImages, !reference.sample.isEmpty else {
            return DriftCheck(
                verdict: .insufficient, images: images, mmd2: 0, mmdPValue: 1, ksStatistic: 0, ksPValue: 1,
                classMixChiSquare: 0, classMixPValue: 1, classMixPsi: 0,
                meanConfidence: meanConfidence, referenceConfidence: reference.meanConfidence,
                reasons: ["\(images) images; at least \(minimumImages) are needed"])
        }
        var random = SeededRandom(seed, 0x6d6d_64)  // "mmd"
        let (mmd2, mmdP) = MaximumMeanDiscrepancy.test(
            sample(reference.sample, &random), sample(projections, &random),
            permutations: permutations, random: &random)
        let (ks, ksP) = KolmogorovSmirnov.worst(reference.sample, projections)
        var mix = [Double](repeating: 0, count: reference.classShares.count)
        for top in topClasses where mix.indices.contains(top) { mix[top] += 1 }
        let psi = PopulationStability.index(
            expected: reference.classShares, observed: mix.map { $0 / Double(max(topClasses.count, 1)) })
        let (chiSquare, mixP) = ChiSquare.goodnessOfFit(observed: mix, expectedShares: reference.classShares)
        let drop = reference.meanConfidence - meanConfidence

        var reasons: [String] = []
        var verdict = Verdict.none
        func flag(_ level: Verdict, _ reason: String) {
            reasons.append(reason)
            if level == .drift || verdict == .none { verdict = level }
        }
        if mmdP <= driftLevel {
            flag(.drift, String(format: "embeddings differ (MMD² %.3f, p %.3f)", mmd2, mmdP))
        } else if mmdP <= warningLevel {
            flag(.warning, String(format: "embeddings may differ (MMD² %.3f, p %.3f)", mmd2, mmdP))
        }
        if ksP <= driftLevel {
            flag(.drift, String(format: "a component's distribution moved (KS %.3f, corrected p %.3g)", ks, ksP))
        }
        if mixP <= driftLevel {
            flag(.drift, String(format: "class mix changed (chi-square %.1f, p %.3g, PSI %.2f)", chiSquare, mixP, psi))
        } else if mixP <= warningLevel {
            flag(.warning, String(format: "class mix shifting (chi-square %.1f, p %.3f, PSI %.2f)", chiSquare, mixP, psi))
        }
        if drop > confidenceDrift {
            flag(.drift, String(format: "confidence fell from %.2f to %.2f", reference.meanConfidence, meanConfidence))
        } else if drop > confidenceWarning {
            flag(.warning, String(format: "confidence falling (%.2f from %.2f)", meanConfidence, reference.meanConfidence))
        }
        return DriftCheck(
            verdict: verdict, images: images, mmd2: mmd2, mmdPValue: mmdP, ksStatistic: ks, ksPValue: ksP,
            classMixChiSquare: chiSquare, classMixPValue: mixP, classMixPsi: psi,
            meanConfidence: meanConfidence, referenceConfidence: reference.meanConfidence, reasons: reasons)
    }

    /// At most `mmdSampleLimit` rows, a seeded sample beyond it.
    private static func sample(_ rows: [[Double]], _ random: inout SeededRandom) -> [[Double]] {
        rows.count <= mmdSampleLimit ? rows : Array(rows.shuffled(using: &random).prefix(mmdSampleLimit))
    }
}

/// The unbiased MMD² between two samples with a Gaussian kernel whose width is the median distance
/// of the pooled sample, and its permutation p-value.
enum MaximumMeanDiscrepancy {
    static func test(_ first: [[Double]], _ second: [[Double]], permutations: Int, random: inout SeededRandom) -> (
        mmd2: Double, p: Double
    ) {
        let pooled = first + second
        let count = pooled.count
        guard first.count >= 2, second.count >= 2 else { return (0, 1) }
        var squared = [Double](repeating: 0, count: count * count)
        var distances: [Double] = []
        distances.reserveCapacity(count * (count - 1) / 2)
        for i in 0..<count {
            for j in (i + 1)..<count {
                var sum = 0.0
                for k in pooled[i].indices {
                    let d = pooled[i][k] - pooled[j][k]
                    sum += d * d
                }
                squared[i * count + j] = sum
                squared[j * count + i] = sum
                distances.append(sum)
            }
        }
        distances.sort()
        let width = max(distances[distances.count / 2], 1e-12)
        let kernel = squared.map { exp(-$0 / width) }
        let labels = (0..<count).map { $0 < first.count }
        let observed = statistic(kernel, count: count, labels: labels, firstCount: first.count)
        var atLeast = 0
        var shuffled = labels
        for _ in 0..<permutations {
            shuffled.shuffle(using: &random)
            if statistic(kernel, count: count, labels: shuffled, firstCount: first.count) >= observed { atLeast += 1 }
        }
        return (observed, Double(atLeast + 1) / Double(permutations + 1))
    }

    /// MMD²ᵤ for the split `labels` gives (true: first sample).
    private static func statistic(_ kernel: [Double], count: Int, labels: [Bool], firstCount: Int) -> Double {
        var within1 = 0.0
        var within2 = 0.0
        var across = 0.0
        for i in 0..<count {
            let row = i * count
            for j in 0..<count where j != i {
                let value = kernel[row + j]
                switch (labels[i], labels[j]) {
                case (true, true): within1 += value
                case (false, false): within2 += value
                default: across += value
                }
            }
        }
        let (m, n) = (Double(firstCount), Double(count - firstCount))
        return within1 / (m * (m - 1)) + within2 / (n * (n - 1)) - across / (m * n)
    }
}

/// Two-sample Kolmogorov-Smirnov tests, one per column.
enum KolmogorovSmirnov {
    /// The largest statistic over the columns and the smallest p-value times the number of
    /// columns (Bonferroni), capped at 1.
    static func worst(_ first: [[Double]], _ second: [[Double]]) -> (statistic: Double, p: Double) {
        let columns = min(first.first?.count ?? 0, second.first?.count ?? 0)
        guard columns > 0 else { return (0, 1) }
        var worstD = 0.0
        var smallestP = 1.0
        for column in 0..<columns {
            let (d, p) = test(first.map { $0[column] }, second.map { $0[column] })
            worstD = max(worstD, d)
            smallestP = min(smallestP, p)
        }
        return (worstD, min(smallestP * Double(columns), 1))
    }

    /// The statistic and its asymptotic p-value.
    static func test(_ first: [Double], _ second: [Double]) -> (statistic: Double, p: Double) {
        let a = first.sorted()
        let b = second.sorted()
        var i = 0
        var j = 0
        var d = 0.0
        while i < a.count, j < b.count {
            let value = min(a[i], b[j])
            while i < a.count, a[i] <= value { i += 1 }
            while j < b.count, b[j] <= value { j += 1 }
            d = max(d, abs(Double(i) / Double(a.count) - Double(j) / Double(b.count)))
        }
        let effective = sqrt(Double(a.count * b.count) / Double(a.count + b.count))
        return (d, probability((effective + 0.12 + 0.11 / effective) * d))
    }

    /// P(K > lambda) for the Kolmogorov distribution.
    static func probability(_ lambda: Double) -> Double {
        guard lambda > 0.2 else { return 1 }
        var sum = 0.0
        var sign = 1.0
        for j in 1...100 {
            let term = sign * exp(-2 * Double(j * j) * lambda * lambda)
            sum += term
            if abs(term) < 1e-12 { break }
            sign = -sign
        }
        return min(max(2 * sum, 0), 1)
    }
}

/// The population stability index of two distributions over the same classes.
enum PopulationStability {
    static func index(expected: [Double], observed: [Double]) -> Double {
        let floor = 1e-4
        return zip(expected, observed).reduce(0) { sum, pair in
            let (e, o) = (max(pair.0, floor), max(pair.1, floor))
            return sum + (o - e) * log(o / e)
        }
    }
}

/// Pearson's chi-square goodness-of-fit test.
enum ChiSquare {
    /// The statistic and p-value of `observed` counts against `expectedShares` (classes the
    /// reference never saw count as a share of 0.5 of one test image, so they are possible but rare).
    static func goodnessOfFit(observed: [Double], expectedShares: [Double]) -> (statistic: Double, p: Double) {
        let total = observed.reduce(0, +)
        guard total > 0, observed.count > 1 else { return (0, 1) }
        let floor = 0.5 / max(total, 1)
        let shares = expectedShares.map { max($0, floor) }
        let sum = shares.reduce(0, +)
        let statistic = zip(observed, shares).reduce(0) { result, pair in
            let expected = total * pair.1 / sum
            return result + (pair.0 - expected) * (pair.0 - expected) / expected
        }
        return (statistic, upperRegularizedGamma(Double(observed.count - 1) / 2, statistic / 2))
    }

    /// Q(a, x) = Γ(a, x) / Γ(a): a series below a + 1, Lentz's continued fraction above.
    static func upperRegularizedGamma(_ a: Double, _ x: Double) -> Double {
        guard x > 0 else { return 1 }
        let logPrefix = a * log(x) - x - lgamma(a)
        if x < a + 1 {
            var term = 1 / a
            var sum = term
            var n = a
            for _ in 0..<500 {
                n += 1
                term *= x / n
                sum += term
                if abs(term) < abs(sum) * 1e-15 { break }
            }
            return max(0, min(1, 1 - sum * exp(logPrefix)))
        }
        let tiny = 1e-300
        var b = x + 1 - a
        var c = 1 / tiny
        var d = 1 / b
        var h = d
        for i in 1...500 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return max(0, min(1, exp(logPrefix) * h))
    }
}
