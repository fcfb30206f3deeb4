#ifndef FISH_FUZZER_H
#define FISH_FUZZER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (present when linked with -sanitize=fuzzer): runs `callback` on generated
/// inputs as libFuzzer's own main would, with its command-line options.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
