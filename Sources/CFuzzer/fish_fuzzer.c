// Declarations only: see include/fish_fuzzer.h.
#include "fish_fuzzer.h"
