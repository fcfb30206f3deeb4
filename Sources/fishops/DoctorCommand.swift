import ArgumentParser
import FishServices
import Foundation

/// `fishops doctor`: the full store check and every model package against its sha256.
struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the store database in full and every model package; exit 1 if anything is wrong.")

    @Flag(help: "Print one JSON object per check.") var json = false

    func run() throws {
        let config: FishConfig
        do { config = try FishConfig.fromEnvironment() } catch { throw fail(error) }
        let findings = DoctorService.examine(config)
        for finding in findings {
            if json {
                print(jsonLine(finding))
            } else {
                print(
                    "\(finding.problem == nil ? "ok     " : "PROBLEM") \(finding.check)\(finding.problem.map { ": \($0)" } ?? "")"
                )
            }
        }
        if findings.contains(where: { $0.problem != nil }) { throw ExitCode.failure }
    }
}
