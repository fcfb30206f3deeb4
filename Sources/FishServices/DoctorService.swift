import FishStore
import Foundation

/// `fishops doctor`: checks what the other commands only check cheaply or in passing: the whole
/// store database, and every registered model package against its recorded sha256.
public enum DoctorService {
    /// One finding: what was checked and what is wrong with it (nil when it is sound).
    public struct Finding: Sendable, Codable, Equatable {
        public let check: String
        public let problem: String?
    }

    /// Every check for the FishOps home in `config`, in order; stops after the store's if the
    /// store cannot be opened.
    public static func examine(_ config: FishConfig) -> [Finding] {
        let problems = Store.integrityReport(directory: config.home)
        var findings = [
            Finding(
                check: "store database (full integrity check)",
                problem: problems.isEmpty ? nil : problems.prefix(10).joined(separator: "; "))
        ]
        let context: ServiceContext
        do { context = try ServiceContext(config: config) } catch {
            findings.append(Finding(check: "store opens", problem: "\(error)"))
            return findings
        }
        let registry = RegistryService(context: context)
        do {
            for model in try registry.models() {
                for version in try context.store.versions(model: model.name) {
                    findings.append(
                        Finding(
                            check: "\(model.name) v\(version.version) package",
                            problem: registry.packageProblem(model: model.name, version: version.version)))
                }
            }
        } catch {
            findings.append(Finding(check: "registry", problem: "\(error)"))
        }
        return findings
    }
}
