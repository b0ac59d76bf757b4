/*
 * fuzz_cli.c: the vtdsim command line (argument parsing and dispatch of every command) over
 * arbitrary words. The input's meaning and the properties checked are in fuzz_cli_input.h/.c;
 * a violated property aborts (libFuzzer saves the input as a crash).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_cli_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256];
    if (fuzz_cli_one(data, size, why, sizeof why)) {
        fprintf(stderr, "fuzz_cli: property violated: %s\n", why);
        abort();
    }
    return 0;
}

#include "fuzz_main.h"
