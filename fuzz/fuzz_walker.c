/*
 * fuzz_walker.c: vtd_translate() over arbitrary memory contents, capabilities and requests.
 * The input's meaning and the properties checked are in fuzz_walker_input.h/.c; a violated
 * property aborts (libFuzzer saves the input as a crash).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_walker_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256];
    if (fuzz_walker_one(data, size, why, sizeof why)) {
        fprintf(stderr, "fuzz_walker: property violated: %s\n", why);
        abort();
    }
    return 0;
}

#include "fuzz_main.h"
