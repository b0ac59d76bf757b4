/*
 * fuzz_yaml.c: the YAML scenario loader (sc_load_string) over arbitrary bytes, and a short run of what loads.
 * The input's meaning and the properties checked are in fuzz_yaml_input.h/.c; a violated
 * property aborts (libFuzzer saves the input as a crash).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_yaml_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256];
    if (fuzz_yaml_one(data, size, why, sizeof why)) {
        fprintf(stderr, "fuzz_yaml: property violated: %s\n", why);
        abort();
    }
    return 0;
}

#include "fuzz_main.h"
