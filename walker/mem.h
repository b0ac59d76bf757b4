/*
 * mem.h: simulated physical memory.
 *
 * Sparse 4 KiB frames, allocated on first write; memory never written reads as zero. Accesses
 * at or beyond the host address width fail, as do accesses to ranges marked to abort reads or
 * writes: that is how tests reach the "access error" fault codes. All translation structures
 * and all DMA data live here; the walker sees memory only through this interface. Memory may
 * instead be an image file of a guest's memory (walker/mem_image.h): then only its segments
 * exist, and every other address fails like an abort range.
 */
#ifndef VTDSIM_WALKER_MEM_H
#define VTDSIM_WALKER_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vtd_mem;

/* Result codes: 0 on success, else one of these (negative errno values). */
#define VTD_MEM_OK 0
#define VTD_MEM_EFAULT (-14)   /* beyond the host address width, or an abort range */
#define VTD_MEM_ENOMEM (-12)   /* frame limit reached or allocation failed */
#define VTD_MEM_EINVAL (-22)   /* misaligned 64-bit access, bad argument */

#define VTD_MEM_ABORT_READ 1u
#define VTD_MEM_ABORT_WRITE 2u

/* New empty memory of `haw` address bits (12..52); NULL on bad width or no memory. */
struct vtd_mem *vtd_mem_new(unsigned haw);
void vtd_mem_free(struct vtd_mem *m);
/*
 * Back to the state vtd_mem_new left: no frames, no abort ranges, no frame limit, no observer,
 * no image (it is unmapped), same width. The frames and the index's host memory are kept for reuse (vtd_mem_footprint still
 * counts them).
 */
void vtd_mem_reset(struct vtd_mem *m);
unsigned vtd_mem_haw(const struct vtd_mem *m);

/* Upper bound on allocated frames (0 = unlimited); writes needing a new frame past it fail. */
void vtd_mem_set_frame_limit(struct vtd_mem *m, size_t max_frames);
/*
 * Upper bound on the host memory the model may use, in bytes of vtd_mem_footprint (frames and
 * the index nodes they need; 0 = unlimited). Past it, writes fail as past the frame limit. The
 * frame count alone understates sparse memory: each frame far from the others needs its own
 * 64 KiB index node.
 */
void vtd_mem_set_host_limit(struct vtd_mem *m, size_t bytes);
/* Why the last frame was refused, so that a caller can name the limit that was met. */
enum vtd_mem_refusal { VTD_MEM_REFUSED_NONE, VTD_MEM_REFUSED_FRAMES, VTD_MEM_REFUSED_HOST, VTD_MEM_REFUSED_ALLOC };
enum vtd_mem_refusal vtd_mem_last_refusal(const struct vtd_mem *m);
size_t vtd_mem_frames(const struct vtd_mem *m);
/*
 * Frames refused so far (the frame limit, or the host allocation failed): each made a write or
 * an A/D update fail with VTD_MEM_ENOMEM. Callers that cannot report an error where it happens
 * (a DMA's A/D update, a wait's status write) let their user see it here.
 */
uint64_t vtd_mem_enomem_count(const struct vtd_mem *m);
/* Bytes of host memory the model uses (frames plus index), for the footprint benchmark. */
size_t vtd_mem_footprint(const struct vtd_mem *m);

/* Aligned 64-bit accesses (pa must be 8-byte aligned). */
int vtd_mem_read64(struct vtd_mem *m, uint64_t pa, uint64_t *val);

/*
 * The state a read hit needs, at the start of struct vtd_mem, so that the walker's reads can be
 * inlined: a direct-mapped cache of frame pointers. Private to mem.c and vtd_mem_read64_fast().
 */
#define VTD_MEM_FAST_SLOTS 64u
struct vtd_mem_fast {
    uint64_t end;       /* 2^haw */
    size_t n_aborts;    /* abort ranges (a read hit needs none) */
    size_t n_dirty;     /* dirty lines in the CPU's write-back cache (a read hit needs none) */
    struct vtd_mem_slot {
        uint64_t fn;    /* frame number, or UINT64_MAX */
        uint8_t *frame;
    } slot[VTD_MEM_FAST_SLOTS];
};

/* Slot of a frame number: high bits folded in, so pools at round addresses do not collide. */
static inline size_t vtd_mem_slot_index(uint64_t fn)
{
    return (size_t)((fn ^ (fn >> 6) ^ (fn >> 12) ^ (fn >> 18)) & (VTD_MEM_FAST_SLOTS - 1));
}

/* vtd_mem_read64 with its common case inlined: same results, same errors. */
static inline int vtd_mem_read64_fast(struct vtd_mem *m, uint64_t pa, uint64_t *val)
{
    const struct vtd_mem_fast *f = (const struct vtd_mem_fast *)(const void *)m;
    uint64_t fn = pa >> 12;
    const struct vtd_mem_slot *s = &f->slot[vtd_mem_slot_index(fn)];
    if (__builtin_expect(s->fn == fn && !(pa & 7) && pa < f->end && !f->n_aborts && !f->n_dirty, 1)) {
        __builtin_memcpy(val, s->frame + (pa & 0xfff), 8); /* little-endian host, as mem.c */
        return 0;
    }
    return vtd_mem_read64(m, pa, val);
}
/*
 * The host bytes of the frame holding `pa` (below 2^haw and written at least once), else NULL.
 * A frame never moves or goes away while the memory lives, so a reader may keep the pointer;
 * it must still honour abort ranges (vtd_mem_may_abort).
 */
const uint8_t *vtd_mem_frame_for_read(struct vtd_mem *m, uint64_t pa);
/* The same without consulting or filling the frame cache: for a reader that keeps the frames it
 * found itself (the walker's remembered frames), where a miss of the cache is the rule. */
const uint8_t *vtd_mem_frame_for_read_indexed(struct vtd_mem *m, uint64_t pa);
/* Whether any abort range is set (then reads must go through vtd_mem_read64). */
static inline bool vtd_mem_may_abort(const struct vtd_mem *m)
{
    return ((const struct vtd_mem_fast *)(const void *)m)->n_aborts != 0;
}
int vtd_mem_write64(struct vtd_mem *m, uint64_t pa, uint64_t val);
/*
 * Atomic compare-and-exchange of a 64-bit word, the way hardware sets A/D bits: writes `desired`
 * only if the word still equals `expected`; *actual receives the value found. Returns 0 (even
 * when the compare failed: check *actual) or an error.
 */
int vtd_mem_cmpxchg64(struct vtd_mem *m, uint64_t pa, uint64_t expected, uint64_t desired, uint64_t *actual);

/* Block accesses of any length and alignment. */
int vtd_mem_read(struct vtd_mem *m, uint64_t pa, void *buf, size_t len);
int vtd_mem_write(struct vtd_mem *m, uint64_t pa, const void *buf, size_t len);
int vtd_mem_fill(struct vtd_mem *m, uint64_t pa, uint8_t byte, size_t len);

/*
 * An observer of software writes (write64, write, fill; not the IOMMU's own A/D updates by
 * compare-exchange), told before the bytes change, so it can compare old and new contents.
 * `data` is the new bytes (NULL for a fill, with `fill` the byte). One observer at a time.
 */
typedef void (*vtd_mem_observer)(void *arg, uint64_t pa, size_t len, const void *data, uint8_t fill);
void vtd_mem_set_observer(struct vtd_mem *m, vtd_mem_observer fn, void *arg);

/*
 * A tag stamped on every frame a software write (write64, write, fill; not an A/D update)
 * touches, and the tag a frame got last (0 if never written). sim/ stamps the step number, so
 * that the oracle can tell which change left a cached translation stale.
 */
void vtd_mem_set_write_tag(struct vtd_mem *m, uint64_t tag);
uint64_t vtd_mem_write_tag_of(struct vtd_mem *m, uint64_t pa);

/*
 * A number that changes whenever anything may change what a read returns: every write,
 * fill and compare-exchange (A/D updates included), a dirty line written back, an abort range
 * set or cleared, an image attached, a reset. While it stays the same, every read (snooped or
 * not) returns what it returned before: sim/'s oracle reuses a fresh walk's answer on that.
 */
uint64_t vtd_mem_generation(const struct vtd_mem *m);

/* Mark [pa, pa+len) to abort reads and/or writes (flags 0 clears the marking of that range). */
int vtd_mem_set_abort(struct vtd_mem *m, uint64_t pa, uint64_t len, unsigned flags);

/*
 * ---- The CPU's write-back cache (docs/walker.md, "Coherency") ----
 *
 * Off by default: software's writes reach memory at once. On, software's writes (write64,
 * write, fill) stay in 64-byte dirty lines of the CPU's cache until software flushes them
 * (clflush of a line or range, wbinvd of everything); the reads above, and compare-exchange,
 * see the CPU's view (a snooped access). Only the *_nosnoop reads see memory as it is, which
 * is what an IOMMU whose page walks do not snoop reads. A line equal to memory is clean and not
 * kept. Frames a dirty line needs are allocated at the write, so a flush cannot fail for want
 * of memory.
 */
#define VTD_CPU_LINE_SIZE 64u
/* Turn the cache on or off; turning it off writes every dirty line back. 0 or VTD_MEM_EINVAL. */
int vtd_mem_set_cpu_cache(struct vtd_mem *m, bool on);
bool vtd_mem_cpu_cache_on(const struct vtd_mem *m);
/* Dirty lines held now. */
static inline size_t vtd_mem_cpu_dirty(const struct vtd_mem *m)
{
    return ((const struct vtd_mem_fast *)(const void *)m)->n_dirty;
}
/* Write back (and drop) the dirty lines [pa, pa+len) touches; *written (if given) counts them. */
int vtd_mem_clflush(struct vtd_mem *m, uint64_t pa, uint64_t len, size_t *written);
/* Write back every dirty line (WBINVD). */
int vtd_mem_wbinvd(struct vtd_mem *m, size_t *written);
/* Reads of memory itself, past the CPU's cache (same errors as vtd_mem_read64, vtd_mem_read). */
int vtd_mem_read64_nosnoop(struct vtd_mem *m, uint64_t pa, uint64_t *val);
int vtd_mem_read_nosnoop(struct vtd_mem *m, uint64_t pa, void *buf, size_t len);
/* Whether the 8-byte aligned word at pa has a value in the CPU's cache that memory does not
 * have yet; if so *cpu_val and *mem_val receive both. */
bool vtd_mem_cpu_pending(struct vtd_mem *m, uint64_t pa, uint64_t *cpu_val, uint64_t *mem_val);

#endif
