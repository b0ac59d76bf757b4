/*
 * mem_image.h: simulated memory backed by an image file of a guest's physical memory.
 *
 * The file is mapped privately (copy-on-write): opening a multi-GiB image costs one mmap, host
 * memory is spent only on the pages a walk reads or the model writes, and vtdsim never writes
 * the file. Writes (A/D updates, scenario writes) go to private copies of the 4 KiB frames they
 * touch, counted by vtd_mem_frames() and held to the frame and host limits of mem.h like
 * ordinary frames.
 *
 * Once an image is attached, memory is exactly its segments: an access to any byte outside them
 * (a hole between an ELF core's PT_LOAD segments, past the end of a raw image) fails with
 * VTD_MEM_EFAULT, which the walker reports as the access-error fault code of the structure it
 * was fetching, as for an abort range. Segments start and end on 4 KiB boundaries, the frame
 * size of simulated memory.
 *
 * Formats:
 * - raw: the file is memory from `base` (4 KiB aligned) on; its size must be a non-zero
 *   multiple of 4 KiB.
 * - elf: an ELF64 little-endian core file as QEMU's dump-guest-memory writes it: each PT_LOAD
 *   segment's file bytes [p_offset, p_offset + p_filesz) are memory at the guest-physical
 *   address p_paddr + `base` (base is normally 0). Other program headers (QEMU writes a
 *   PT_NOTE first) are ignored; so is a PT_LOAD with p_filesz 0 (memory not in the dump), and
 *   the part of a segment past p_filesz: none of it is backed. The program-header count may
 *   use the PN_XNUM extension (the real count in section header 0's sh_info).
 * Every malformed image (truncated, bad magic, class or byte order, segments beyond the file
 * or the host address width, overlapping or unaligned segments) is refused with the reason.
 *
 * The file must not shrink while it is attached (reading a page past a truncated end would
 * raise SIGBUS); it may be replaced, since the mapping keeps the original.
 */
#ifndef VTDSIM_WALKER_MEM_IMAGE_H
#define VTDSIM_WALKER_MEM_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "walker/mem.h"

enum vtd_image_format { VTD_IMAGE_RAW, VTD_IMAGE_ELF };

/* "raw" or "elf"; NULL for a value that is not a format. */
const char *vtd_image_format_name(enum vtd_image_format fmt);
/* The format called `name` ("raw", "elf"): 0, or -EINVAL for any other name. */
int vtd_image_format_parse(const char *name, enum vtd_image_format *fmt);

/*
 * Back `m` by the image file `path` in format `fmt`, its segments placed at `base` (raw) or
 * displaced by `base` (elf). `m` must hold no data yet (no frame written, no image attached).
 * 0, or a negative errno with "PATH: reason" in err (errlen bytes, may be 0): -EINVAL for a
 * malformed image or a bad argument (also a file that is not regular), -EBUSY for memory that
 * already holds data, -ERANGE for a segment beyond the host address width, -ENOMEM, or the
 * errno of open/mmap. On failure `m` is unchanged. The image stays attached until
 * vtd_mem_free() or vtd_mem_reset().
 */
int vtd_mem_attach_image(struct vtd_mem *m, const char *path, enum vtd_image_format fmt, uint64_t base,
                         char *err, size_t errlen);

/* One backed range of an attached image. */
struct vtd_mem_image_segment {
    uint64_t pa;          /* first guest-physical address */
    uint64_t len;         /* bytes (a multiple of 4 KiB) */
    uint64_t file_offset; /* where its bytes start in the file */
};

/*
 * The segments of the attached image in address order: the count (0 when no image is
 * attached), of which the first `max` are copied to `out` (may be NULL when max is 0).
 */
size_t vtd_mem_image_segments(const struct vtd_mem *m, struct vtd_mem_image_segment *out, size_t max);

/* Whether every byte of [pa, pa+len) may be accessed (len > 0): below the host address width
 * and, with an image attached, inside its segments. Abort ranges are not considered. */
bool vtd_mem_backed(const struct vtd_mem *m, uint64_t pa, uint64_t len);

#endif
