import CBLAS

/// Row-major matrix products on OpenBLAS (the trainable head, similarity of embeddings).
enum Gemm {
    /// `c[m, n] = alpha * op(a) x op(b) + beta * c`, where `op(a)` is `[m, k]` and `op(b)` is `[k, n]`;
    /// a transposed operand is stored the other way round.
    static func multiply(
        _ a: UnsafePointer<Float>, transposeA: Bool = false, _ b: UnsafePointer<Float>,
        transposeB: Bool = false, into c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0
    ) {
        fish_sgemm(
            transposeA ? 1 : 0, transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha,
            a, Int32(transposeA ? m : k), b, Int32(transposeB ? k : n), beta, c, Int32(n))
    }
}
