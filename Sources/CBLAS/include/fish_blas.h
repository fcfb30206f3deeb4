#ifndef FISH_BLAS_H
#define FISH_BLAS_H

#include <stddef.h>

/// Loads OpenBLAS (once per process, single-threaded: callers bring their own threads) and
/// returns 0, or non-zero with a message in `err`.
///
/// OpenBLAS picks its kernels when it is loaded, from the CPU model; on virtual machines that
/// report a generic model it falls back to its SSE3 ("Prescott") kernels, about 5x slower than the
/// AVX-512 ones. Unless OPENBLAS_CORETYPE is already set, this sets it from the CPU's features
/// before loading the library, which is why OpenBLAS is opened here rather than linked.
int fish_blas_load(char *err, size_t err_len);

/// The kernel family OpenBLAS uses (after `fish_blas_load`), e.g. "Cooperlake".
const char *fish_blas_core(void);

/// Row-major sgemm (loads OpenBLAS first if needed; aborts if it cannot be loaded, so call
/// `fish_blas_load` first to report that error properly): C[m, n] = alpha * op(A)[m, k] x op(B)[k, n] + beta * C, where op transposes
/// when `transpose_a` / `transpose_b` is non-zero.
void fish_sgemm(int transpose_a, int transpose_b, int m, int n, int k, float alpha, const float *a,
                int lda, const float *b, int ldb, float beta, float *c, int ldc);

#endif
