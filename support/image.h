/*
 * image.h: memory images written from simulated memory, as QEMU writes them from a guest
 * (pmemsave: raw bytes; dump-guest-memory: an ELF64 core whose PT_LOAD segments are memory),
 * so that tests and benchmarks can run `vtdsim inspect` on structures the builders made.
 */
#ifndef VTDSIM_SUPPORT_IMAGE_H
#define VTDSIM_SUPPORT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "walker/mem.h"

struct image_segment {
    uint64_t pa, len;   /* both 4 KiB aligned */
};

/* [base, base+len) of `m` as a raw image at `path`. 0 or a negative errno. */
int image_write_raw(struct vtd_mem *m, uint64_t base, uint64_t len, const char *path);
/* The segments of `m` as an ELF64 core (ET_CORE, one PT_LOAD each). 0 or a negative errno. */
int image_write_elf(struct vtd_mem *m, const struct image_segment *seg, size_t n, const char *path);

#endif
