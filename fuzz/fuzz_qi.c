/*
 * fuzz_qi.c: queued invalidation (vtd_qi_submit and the queue in memory run through the
 * registers) over arbitrary descriptors. The input's meaning and the properties checked are
 * in fuzz_qi_input.h/.c; a violated property aborts (libFuzzer saves the input as a crash).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_qi_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256];
    if (fuzz_qi_one(data, size, why, sizeof why)) {
        fprintf(stderr, "fuzz_qi: property violated: %s\n", why);
        abort();
    }
    return 0;
}

#include "fuzz_main.h"
