/*
 * fuzz_trace.c: the DMA trace readers (binary and CSV), writers and replay over arbitrary
 * bytes. The input's meaning and the properties checked are in fuzz_trace_input.h/.c; a
 * violated property aborts (libFuzzer saves the input as a crash).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_trace_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[512];
    if (fuzz_trace_one(data, size, why, sizeof why)) {
        fprintf(stderr, "fuzz_trace: property violated: %s\n", why);
        abort();
    }
    return 0;
}

#include "fuzz_main.h"
