/*
 * fuzz_image.c: memory images (walker/mem_image.h) over arbitrary bytes: raw images and ELF
 * cores. The input's meaning and the properties checked are in fuzz_image_input.h/.c; a
 * violated property aborts (libFuzzer saves the input as a crash).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_image_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[512];
    if (fuzz_image_one(data, size, why, sizeof why)) {
        fprintf(stderr, "fuzz_image: property violated: %s\n", why);
        abort();
    }
    return 0;
}

#include "fuzz_main.h"
