#include "fish_blas.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

// CBLAS constants (from the CBLAS standard).
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int,
                         float, float *, int);
typedef void (*set_threads_fn)(int);
typedef char *(*corename_fn)(void);

static sgemm_fn sgemm;
static set_threads_fn set_threads;
static corename_fn corename;
static char load_error[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

// The best OpenBLAS kernel family this CPU supports, or NULL to let OpenBLAS decide.
static const char *core_for_this_cpu(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
        return __builtin_cpu_supports("avx512bf16") ? "Cooperlake" : "SkylakeX";
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
    return NULL;
}

static void load_once(void) {
    const char *core = core_for_this_cpu();
    if (getenv("OPENBLAS_CORETYPE") == NULL && core != NULL) setenv("OPENBLAS_CORETYPE", core, 0);
    void *library = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) library = dlopen("libopenblas.so", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        snprintf(load_error, sizeof load_error,
                 "cannot load OpenBLAS (%s); install it with: apt-get install libopenblas0-pthread", dlerror());
        return;
    }
    sgemm = (sgemm_fn)dlsym(library, "cblas_sgemm");
    set_threads = (set_threads_fn)dlsym(library, "openblas_set_num_threads");
    corename = (corename_fn)dlsym(library, "openblas_get_corename");
    if (sgemm == NULL || set_threads == NULL || corename == NULL) {
        snprintf(load_error, sizeof load_error, "the loaded BLAS library is not OpenBLAS");
        sgemm = NULL;
        return;
    }
    // FishOps runs its own threads (images, rows or trials per core) and calls sgemm from them:
    // OpenBLAS runs on the calling thread, so its workers never spin against ours.
    set_threads(1);
}

int fish_blas_load(char *err, size_t err_len) {
    pthread_once(&once, load_once);
    if (sgemm != NULL) return 0;
    snprintf(err, err_len, "%s", load_error);
    return 1;
}

const char *fish_blas_core(void) { return corename != NULL ? corename() : "not loaded"; }

void fish_sgemm(int transpose_a, int transpose_b, int m, int n, int k, float alpha, const float *a,
                int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    pthread_once(&once, load_once);
    if (sgemm == NULL) {  // callers load first and report the error; this is a programming error
        fprintf(stderr, "fishops: OpenBLAS is not available: %s\n", load_error);
        abort();
    }
    sgemm(ROW_MAJOR, transpose_a ? TRANS : NO_TRANS, transpose_b ? TRANS : NO_TRANS, m, n, k, alpha, a,
          lda, b, ldb, beta, c, ldc);
}
