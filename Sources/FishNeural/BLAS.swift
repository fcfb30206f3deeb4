import CBLAS

/// The OpenBLAS library the engine's matrix products run on.
public enum BLAS {
    /// Loads OpenBLAS with the best kernels for this CPU (once per process).
    public static func load() throws(NeuralError) {
        var message = [CChar](repeating: 0, count: 256)
        guard fish_blas_load(&message, message.count) == 0 else {
            throw .invalidInput(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
    }

    /// The kernel family in use, e.g. "Cooperlake"; "not loaded" before `load()`.
    public static var core: String { String(cString: fish_blas_core()) }
}
