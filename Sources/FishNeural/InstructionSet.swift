import CKernels
import Foundation

/// The instruction sets FishOps' vector kernels (`PackedPointwise`, `Kernels.depthwise`, the stem)
/// are built for.
public enum InstructionSet: Int32, Sendable, CaseIterable {
    case baseline = 0
    case avx2 = 1
    case avx512 = 2

    /// The best one this CPU runs.
    public static var best: InstructionSet { InstructionSet(rawValue: fish_best_isa()) ?? .baseline }

    /// The one the engine runs: the set `FISHOPS_KERNELS` names when this CPU runs it, else `best`.
    /// (The configuration refuses a name it does not know or a set the CPU lacks before any work
    /// starts; see `choice(named:)`.)
    public static let engine: InstructionSet = {
        guard let name = ProcessInfo.processInfo.environment["FISHOPS_KERNELS"], !name.isEmpty,
            case let .success(chosen) = choice(named: name)
        else { return best }
        return chosen
    }()

    public var isSupported: Bool { fish_isa_supported(rawValue) != 0 }

    /// The name `FISHOPS_KERNELS` and `fishops bench` use: `baseline`, `avx2` or `avx512`.
    public var name: String { "\(self)" }

    /// The set called `name` if this CPU runs it, else why not (in words an operator can act on).
    public static func choice(named name: String) -> Result<InstructionSet, ChoiceError> {
        guard let set = allCases.first(where: { $0.name == name.lowercased() }) else {
            return .failure(ChoiceError("is not one of \(allCases.map(\.name).joined(separator: ", "))"))
        }
        guard set.isSupported else {
            let runs = allCases.filter(\.isSupported).map(\.name).joined(separator: ", ")
            return .failure(ChoiceError("names kernels this CPU cannot run (it runs \(runs))"))
        }
        return .success(set)
    }

    /// Why a name does not choose a set this CPU runs.
    public struct ChoiceError: Error, Sendable, CustomStringConvertible {
        public let description: String

        init(_ description: String) {
            self.description = description
        }
    }
}
