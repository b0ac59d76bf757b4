/*
 * fuzz_ioctl.c: the container's uAPI (vtd_container_ioctl and its companions) over arbitrary request sequences.
 * The input's meaning and the properties checked are in fuzz_ioctl_input.h/.c; a violated
 * property aborts (libFuzzer saves the input as a crash).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_ioctl_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256];
    if (fuzz_ioctl_one(data, size, why, sizeof why)) {
        fprintf(stderr, "fuzz_ioctl: property violated: %s\n", why);
        abort();
    }
    return 0;
}

#include "fuzz_main.h"
