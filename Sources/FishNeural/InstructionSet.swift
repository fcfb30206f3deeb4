import CKernels

/// The instruction sets FishOps' vector kernels (`PackedPointwise`, `Kernels.depthwise`) are built for.
public enum InstructionSet: Int32, Sendable, CaseIterable {
    case baseline = 0
    case avx2 = 1
    case avx512 = 2

    /// The best one this CPU runs, which the engine uses.
    public static var best: InstructionSet { InstructionSet(rawValue: fish_best_isa()) ?? .baseline }
    public var isSupported: Bool { fish_isa_supported(rawValue) != 0 }
}
