import ArgumentParser
import FishServices
import Foundation

/// `fishops drift`: whether a folder of images looks like a version's training data.
struct Drift: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check whether images look like a version's training data (exit 1 on drift). See docs/drift.md.")

    @Option(help: "NAME or NAME:VERSION (default: the configured model, as classify picks its version).") var model: String?
    @Flag(help: "One JSON object: the version, the verdict and every test's numbers.") var json = false
    @Argument(help: "Image files or folders (searched recursively).") var paths: [String]

    func validate() throws {
        _ = try Self.parse(model)
    }

    func run() throws {
        let (name, version) = try Self.parse(model)
        let context = try makeContext()
        let report = try reporting { try DriftService(context: context).check(model: name, version: version, paths: paths) }
        let check = report.check
        if json {
            print(jsonLine(report, snakeCase: true))
        } else {
            print(
                "\(report.model.name) v\(report.model.version): \(check.verdict.rawValue) (\(check.images) images\(report.failed > 0 ? ", \(report.failed) not classified" : ""))"
            )
            for reason in check.reasons { print("  \(reason)") }
            print(
                String(
                    format:
                        "  MMD² %.4f (p %.3f), KS %.3f (corrected p %.3g), class mix chi-square %.1f (p %.3g, PSI %.3f), confidence %.2f (test split %.2f)",
                    check.mmd2, check.mmdPValue, check.ksStatistic, check.ksPValue, check.classMixChiSquare, check.classMixPValue,
                    check.classMixPsi, check.meanConfidence, check.referenceConfidence))
            print("  class            test split   these images")
            for mix in report.classMix {
                print(
                    "  " + mix.label.padding(toLength: 16, withPad: " ", startingAt: 0)
                        + String(format: " %9.1f%%   %9.1f%%", mix.testShare * 100, mix.share * 100))
            }
        }
        if check.verdict == .drift { throw ExitCode.failure }
    }

    /// `NAME` or `NAME:VERSION`.
    static func parse(_ text: String?) throws -> (String?, Int?) {
        guard let text else { return (nil, nil) }
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return (text, nil) }
        guard let version = Int(parts[1].hasPrefix("v") ? String(parts[1].dropFirst()) : parts[1]), version > 0 else {
            throw ValidationError("--model \(text): the version after ':' must be a positive number")
        }
        return (parts[0], version)
    }
}
