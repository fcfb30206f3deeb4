#ifndef FISH_ISA_H
#define FISH_ISA_H

/// Instruction sets the vector kernels are built for.
enum { FISH_ISA_BASELINE = 0, FISH_ISA_AVX2 = 1, FISH_ISA_AVX512 = 2 };

/// Whether this CPU runs the build for `isa`.
int fish_isa_supported(int isa);

/// The best instruction set this CPU has: the one the engine uses.
int fish_best_isa(void);

#endif
