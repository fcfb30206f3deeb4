#include "fish_isa.h"

/// The instruction sets this CPU runs, one bit each, read once.
static int supported_sets(void) {
    static int sets = -1;
    int found = __atomic_load_n(&sets, __ATOMIC_RELAXED);
    if (found < 0) {
        found = 1 << FISH_ISA_BASELINE;
#if defined(__x86_64__) && defined(__clang__)
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) found |= 1 << FISH_ISA_AVX2;
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
            __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw")) {
            found |= 1 << FISH_ISA_AVX512;
        }
#endif
        __atomic_store_n(&sets, found, __ATOMIC_RELAXED);
    }
    return found;
}

int fish_isa_supported(int isa) {
    return isa >= 0 && isa <= FISH_ISA_AVX512 && (supported_sets() >> isa & 1);
}

int fish_best_isa(void) {
    return fish_isa_supported(FISH_ISA_AVX512) ? FISH_ISA_AVX512
           : fish_isa_supported(FISH_ISA_AVX2) ? FISH_ISA_AVX2 : FISH_ISA_BASELINE;
}
