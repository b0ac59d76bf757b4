/*
 * fuzz_image_input.h: how fuzz_image interprets its input, shared by the fuzz target
 * (fuzz/fuzz_image.c) and the regression test (tests/test_fuzz_regressions.c).
 *
 * Byte 0 chooses; the rest is the image file's bytes (walker/mem_image.h):
 *   bit 0     0: raw, 1: ELF core
 *   bits 1-2  base: 0, 0x1000, 0x10000000, or 2^48 - 0x1000 (past the width for most images)
 *   bits 3-4  host address width of the memory: 48, 39, 52 or 12 bits
 * The file is an in-memory file (memfd), opened by its /proc/self/fd path as a user's would be.
 */
#ifndef VTDSIM_FUZZ_IMAGE_INPUT_H
#define VTDSIM_FUZZ_IMAGE_INPUT_H

#include <stddef.h>
#include <stdint.h>

#define FI_ELF 1u

/* Attach one input as an image and check what memory makes of it; 0, or -1 with the violated
 * property in `why`. */
int fuzz_image_one(const uint8_t *data, size_t size, char *why, size_t why_len);

#endif
