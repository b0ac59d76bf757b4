/*
 * mem_internal.h: how mem_image.c hands a mapped image to mem.c. Not installed.
 */
#ifndef VTDSIM_WALKER_MEM_INTERNAL_H
#define VTDSIM_WALKER_MEM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "walker/mem.h"

/* One backed range: [pa, pa+len) reads and writes the host bytes at `host`. */
struct vtd_mem_backing_seg {
    uint64_t pa, len;       /* 4 KiB aligned, len > 0 */
    uint64_t file_offset;   /* for vtd_mem_image_segments */
    uint8_t *host;          /* inside the mapping, writable (private) */
    uint64_t first_frame;   /* index of its first frame among all segments' frames */
};

/* Releases the mapping when memory lets the image go. */
typedef void (*vtd_mem_unmap_fn)(void *map, size_t len);

/*
 * Make `seg` (n of them, sorted by pa, disjoint, below 2^haw, allocated with vtd_malloc) the
 * only backed memory of `m`, which must hold no data. On success memory owns `seg` and the
 * mapping [map, map+map_len) and calls `unmap` on it when the image goes; on failure (-EBUSY,
 * -ENOMEM) the caller keeps both.
 */
int vtd_mem_back(struct vtd_mem *m, struct vtd_mem_backing_seg *seg, size_t n, void *map, size_t map_len,
                 vtd_mem_unmap_fn unmap);

#endif
