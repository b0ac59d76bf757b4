/*
 * mem.c: simulated physical memory as sparse 4 KiB frames.
 *
 * Frames hang off a three-level radix index over the frame number (pa >> 12, at most 40 bits):
 * a root sized for the host address width, then mid and leaf nodes of 2^13 pointers each,
 * allocated on first write. A small direct-mapped cache of frame pointers sits in front of the
 * index: a nested walk reads ~30 entries spread over a dozen table pages, so a single "last
 * frame" slot would miss on nearly every read, while 64 slots keep those pages hot. Frames are
 * never freed before vtd_mem_free or vtd_mem_reset (which empties the cache too), so a cached
 * pointer never goes stale.
 *
 * The model is single-threaded: "atomic" compare-exchange means nothing else can run between
 * the compare and the store, which holds trivially here.
 */
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
#include "walker/mem.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "walker/alloc.h"
#include "walker/cpu_lines.h"
#include "walker/mem_image.h"
#include "walker/mem_internal.h"

#define FRAME_SHIFT 12
#define FRAME_SIZE ((size_t)1 << FRAME_SHIFT)
#define FRAME_OFFSET(pa) ((size_t)((pa) & (FRAME_SIZE - 1)))

#define NODE_BITS 13
#define NODE_SLOTS ((size_t)1 << NODE_BITS)
#define NODE_INDEX(fn, level) ((size_t)((fn) >> (NODE_BITS * (level))) & (NODE_SLOTS - 1))

#define HAW_MIN 12u
#define HAW_MAX 52u

#define NO_FRAME UINT64_MAX /* never a frame number: they have at most 40 bits */

/*
 * Each frame's allocation carries a tail after its 4 KiB: its frame number and the next frame
 * of the list it is on (live or spare). vtd_mem_reset and vtd_mem_free then visit the frames
 * that exist instead of scanning 8,192-slot index nodes, and a reset keeps frames for reuse.
 */
struct frame_tail {
    uint8_t *next;
    uint64_t fn;
    uint64_t write_tag; /* the memory's write tag at the frame's last software write */
};
#define FRAME_ALLOC (FRAME_SIZE + sizeof(struct frame_tail))

static struct frame_tail *tail_of(uint8_t *frame) { return (struct frame_tail *)(void *)(frame + FRAME_SIZE); }

/*
 * Frames come from slabs, never one allocation each: clearing a fresh 4 KiB allocation was
 * most of the cost of building small tables. Slabs double from 16 frames to 8,192 (33 MB, above
 * the C library's largest mmap threshold), so a large memory's slabs are fresh pages the kernel
 * hands out zeroed and only as they are touched; frames are given back only all together.
 */
struct frame_slab {
    struct frame_slab *next;
    size_t frames, used;
    uint8_t frame[]; /* frames x FRAME_ALLOC bytes */
};
#define SLAB_FIRST_FRAMES 16u
#define SLAB_MAX_FRAMES 8192u

struct leaf_node {
    uint8_t *frame[NODE_SLOTS];
};

struct mid_node {
    struct leaf_node *leaf[NODE_SLOTS];
};

/* One marked range [start, end); the set is kept disjoint, see vtd_mem_set_abort. */
struct abort_range {
    uint64_t start, end;
    unsigned flags;
};

/*
 * An attached image (mem_image.c maps it): the only backed memory while it is attached. Its
 * frames are read and written in place in the private mapping; `dirty` has one bit per frame
 * (numbered across segments) once a write has made the kernel copy it, for the accounting.
 */
struct mem_image {
    struct vtd_mem_backing_seg *seg; /* sorted by pa, disjoint */
    size_t n;
    void *map;
    size_t map_len;
    vtd_mem_unmap_fn unmap;
    uint64_t *dirty;
    size_t dirty_words;
    size_t dirty_frames;
};

struct vtd_mem {
    /* Hot fields first, in the layout mem.h's inline read expects. */
    struct vtd_mem_fast fast;
    struct mid_node **root;
    size_t root_slots;
    struct abort_range *aborts;
    uint8_t *live;          /* every frame, newest first, linked through their tails */
    uint8_t *spare;         /* frames vtd_mem_reset gave back, for reuse */
    struct frame_slab *slabs; /* where frames are carved from, newest first */
    size_t frames, frame_limit, nodes, spares;
    size_t host_limit;      /* bytes of vtd_mem_footprint (0 = unlimited) */
    enum vtd_mem_refusal refusal; /* why the last frame was refused */
    uint64_t enomem;        /* frames refused: frame limit or allocation failure */
    unsigned haw;
    vtd_mem_observer observer;
    void *observer_arg;
    uint64_t write_tag;     /* stamped on every frame a software write touches */
    struct mem_image *image; /* NULL: sparse frames, zero where never written */
    bool cpu_on;            /* software's writes go to the CPU's write-back cache */
    struct cpu_lines cpu;   /* its dirty lines (fast.n_dirty counts them) */
    uint64_t generation;    /* bumped by anything that may change what a read returns */
};
_Static_assert(offsetof(struct vtd_mem, fast) == 0, "mem.h reads the fast-path state at the start");


/* ---- byte order: simulated memory is little-endian like the hardware it models ---- */

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static void store_le64(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, sizeof v);
}

/* ---- checks ---- */

/* Whether [pa, pa+len) lies below 2^haw; len > 0, and a block wrapping past 2^64 never does. */
static bool range_in_width(const struct vtd_mem *m, uint64_t pa, uint64_t len)
{
    return len <= m->fast.end && pa <= m->fast.end - len;
}

/* Whether [pa, pa+len) overlaps a range aborting any access kind in `kinds`. */
static bool range_aborts(const struct vtd_mem *m, uint64_t pa, uint64_t len, unsigned kinds)
{
    uint64_t last = pa + len; /* no wrap: callers checked range_in_width first */
    for (size_t i = 0; i < m->fast.n_aborts; i++) {
        const struct abort_range *r = &m->aborts[i];
        if ((r->flags & kinds) && r->start < last && pa < r->end)
            return true;
    }
    return false;
}

static bool image_covers(const struct mem_image *img, uint64_t pa, uint64_t len);

/* The write tag of a software write. Image frames have no tail (they are the mapping's own
 * pages), so over an image every frame reads tag 0: one change as far as the oracle can tell. */
static void stamp_write(const struct vtd_mem *m, uint8_t *frame)
{
    if (!m->image)
        tail_of(frame)->write_tag = m->write_tag;
}

/* Common argument check of a block access: 0, or the error to return. */
static int block_check(const struct vtd_mem *m, uint64_t pa, uint64_t len, unsigned kinds)
{
    if (!range_in_width(m, pa, len))
        return VTD_MEM_EFAULT;
    if (m->fast.n_aborts && range_aborts(m, pa, len, kinds))
        return VTD_MEM_EFAULT;
    if (m->image && !image_covers(m->image, pa, len))
        return VTD_MEM_EFAULT;
    return VTD_MEM_OK;
}

/* ---- an attached image ---- */

/* The segment holding `pa`, or NULL in a hole (binary search: segments are sorted). */
static const struct vtd_mem_backing_seg *image_seg_at(const struct mem_image *img, uint64_t pa)
{
    size_t lo = 0, hi = img->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct vtd_mem_backing_seg *s = &img->seg[mid];
        if (pa < s->pa)
            hi = mid;
        else if (pa - s->pa >= s->len)
            lo = mid + 1;
        else
            return s;
    }
    return NULL;
}

/* The host bytes of frame `fn` inside the image, or NULL in a hole. */
static uint8_t *image_frame(const struct mem_image *img, uint64_t fn)
{
    uint64_t pa = fn << FRAME_SHIFT;
    const struct vtd_mem_backing_seg *s = image_seg_at(img, pa);
    return s ? s->host + (pa - s->pa) : NULL;
}

/* Whether [pa, pa+len) lies inside segments (adjacent ones may share a block); len > 0. */
static bool image_covers(const struct mem_image *img, uint64_t pa, uint64_t len)
{
    uint64_t last = pa + (len - 1); /* no wrap: callers checked range_in_width first */
    for (;;) {
        const struct vtd_mem_backing_seg *s = image_seg_at(img, pa);
        if (!s)
            return false;
        uint64_t seg_last = s->pa + (s->len - 1);
        if (last <= seg_last)
            return true;
        pa = seg_last + 1;
    }
}

/* Frame number of `fn` among all segments' frames (fn is backed). */
static uint64_t image_frame_index(const struct mem_image *img, uint64_t fn)
{
    const struct vtd_mem_backing_seg *s = image_seg_at(img, fn << FRAME_SHIFT);
    return s->first_frame + (fn - (s->pa >> FRAME_SHIFT));
}

static bool image_dirty_test(const struct mem_image *img, uint64_t i) { return img->dirty[i / 64] >> (i % 64) & 1; }

/* ---- the frame index ---- */


static void cache_remember(struct vtd_mem *m, uint64_t fn, uint8_t *frame)
{
    m->fast.slot[vtd_mem_slot_index(fn)] = (struct vtd_mem_slot){.fn = fn, .frame = frame};
}

/* The frame holding frame number `fn`, or NULL if never written (the radix walk, uncached). */
static uint8_t *index_find(const struct vtd_mem *m, uint64_t fn)
{
    struct mid_node *mid = m->root[fn >> (2 * NODE_BITS)];
    if (!mid)
        return NULL;
    struct leaf_node *leaf = mid->leaf[NODE_INDEX(fn, 1)];
    return leaf ? leaf->frame[NODE_INDEX(fn, 0)] : NULL;
}

/* The frame of `fn` from the index (or the image), the frame cache left as it is. */
static inline uint8_t *frame_find_uncached_quiet(const struct vtd_mem *m, uint64_t fn)
{
    uint8_t *frame = index_find(m, fn);
    /* With an image attached the sparse index stays empty: every frame is in the mapping. */
    return frame || !m->image ? frame : image_frame(m->image, fn);
}

/* The frame cache's miss: the index (or the image), remembered when found. */
static inline uint8_t *frame_find_uncached(struct vtd_mem *m, uint64_t fn)
{
    uint8_t *frame = frame_find_uncached_quiet(m, fn);
    if (frame)
        cache_remember(m, fn, frame);
    return frame;
}

/* The cache miss path, kept out of line so the read64 hit path stays small. */
static __attribute__((noinline)) uint8_t *frame_find_slow(struct vtd_mem *m, uint64_t fn)
{
    return frame_find_uncached(m, fn);
}

/* The frame for `fn` if it exists; never allocates. */
static inline uint8_t *frame_find(struct vtd_mem *m, uint64_t fn)
{
    const struct vtd_mem_slot *s = &m->fast.slot[vtd_mem_slot_index(fn)];
    if (s->fn == fn)
        return s->frame;
    return frame_find_slow(m, fn);
}

/* Frames the model holds: allocated ones and the image frames it wrote (private copies). */
static size_t frames_used(const struct vtd_mem *m) { return m->frames + (m->image ? m->image->dirty_frames : 0); }

/* Whether `more` frames stay within the limit (0 = unlimited). */
static bool frames_allowed(const struct vtd_mem *m, size_t more)
{
    size_t used = frames_used(m);
    return m->frame_limit == 0 || (used <= m->frame_limit && more <= m->frame_limit - used);
}

/* Whether `more` bytes of frames and index nodes stay within the host limit (0 = unlimited). */
static bool bytes_allowed(const struct vtd_mem *m, uint64_t more)
{
    size_t used = vtd_mem_footprint(m);
    return m->host_limit == 0 || (used <= m->host_limit && more <= m->host_limit - used);
}

/*
 * A slab of the largest size asks for transparent huge pages: a dense build then takes its
 * frames' page faults 2 MiB at a time instead of 4 KiB (bench_setup's 256 GiB map spent more
 * time in the kernel, faulting 131,330 table frames in, than building them). Frames are carved
 * in order and only once written, so the huge pages hold frames in use, not spare room (but for
 * the slab's last 2 MiB). Advice only: without THP nothing changes.
 */
static void slab_advise(void *slab, size_t bytes)
{
#if defined(MADV_HUGEPAGE)
    const uintptr_t page = 4096;
    uintptr_t lo = ((uintptr_t)slab + page - 1) & ~(page - 1), hi = ((uintptr_t)slab + bytes) & ~(page - 1);
    if (hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
    (void)slab;
    (void)bytes;
#endif
}

/* A new slab, twice the last one (up to SLAB_MAX_FRAMES); zeroed by the allocation. */
static struct frame_slab *slab_new(struct vtd_mem *m)
{
    size_t frames = m->slabs ? m->slabs->frames * 2 : SLAB_FIRST_FRAMES;
    if (frames > SLAB_MAX_FRAMES)
        frames = SLAB_MAX_FRAMES;
    struct frame_slab *s = vtd_calloc(1, sizeof *s + frames * FRAME_ALLOC);
    if (!s)
        return NULL;
    if (frames == SLAB_MAX_FRAMES)
        slab_advise(s, sizeof *s + frames * FRAME_ALLOC);
    s->frames = frames;
    s->next = m->slabs;
    m->slabs = s;
    return s;
}

/* A zeroed frame: a spare one if a reset left some, else the next of the current slab. */
static uint8_t *frame_alloc(struct vtd_mem *m)
{
    uint8_t *frame = m->spare;
    if (!frame) {
        struct frame_slab *s = m->slabs && m->slabs->used < m->slabs->frames ? m->slabs : slab_new(m);
        return s ? s->frame + s->used++ * FRAME_ALLOC : NULL;
    }
    m->spare = tail_of(frame)->next;
    m->spares--;
    memset(frame, 0, FRAME_SIZE);
    return frame;
}

static void slab_list_free(struct frame_slab *s)
{
    while (s) {
        struct frame_slab *next = s->next;
        vtd_free(s);
        s = next;
    }
}

/* The frame for `fn`, allocating it and any missing index nodes; NULL when out of memory. */
static uint8_t *frame_get(struct vtd_mem *m, uint64_t fn)
{
    uint8_t *frame = frame_find(m, fn);
    if (frame)
        return frame;
    struct mid_node **midp = &m->root[fn >> (2 * NODE_BITS)];
    /* The index nodes it needs count against the host limit too: sparse frames cost a node each. */
    uint64_t nodes_needed = !*midp ? 2 : !(*midp)->leaf[NODE_INDEX(fn, 1)];
    m->refusal = !frames_allowed(m, 1) ? VTD_MEM_REFUSED_FRAMES
                 : !bytes_allowed(m, FRAME_ALLOC + nodes_needed * sizeof(struct leaf_node)) ? VTD_MEM_REFUSED_HOST
                 : VTD_MEM_REFUSED_ALLOC; /* the reason if an allocation below fails */
    if (m->refusal != VTD_MEM_REFUSED_ALLOC)
        goto refused;
    if (!*midp) {
        if (!(*midp = vtd_calloc(1, sizeof **midp)))
            goto refused;
        m->nodes++;
    }
    struct leaf_node **leafp = &(*midp)->leaf[NODE_INDEX(fn, 1)];
    if (!*leafp) {
        if (!(*leafp = vtd_calloc(1, sizeof **leafp)))
            goto refused;
        m->nodes++;
    }
    if (!(frame = frame_alloc(m)))
        goto refused;
    *tail_of(frame) = (struct frame_tail){.next = m->live, .fn = fn, .write_tag = m->write_tag};
    m->live = frame;
    (*leafp)->frame[NODE_INDEX(fn, 0)] = frame;
    m->frames++;
    cache_remember(m, fn, frame);
    return frame;
refused:
    m->enomem++;
    return NULL;
}

/* Frame number of the last byte of [pa, pa+len), len > 0. */
static uint64_t last_fn(uint64_t pa, uint64_t len) { return (pa + len - 1) >> FRAME_SHIFT; }

/* Frames of [pa, pa+len) not yet allocated. */
static size_t frames_missing(struct vtd_mem *m, uint64_t pa, uint64_t len)
{
    size_t missing = 0;
    for (uint64_t fn = pa >> FRAME_SHIFT; fn <= last_fn(pa, len); fn++)
        missing += frame_find(m, fn) == NULL;
    return missing;
}

/*
 * Allocate every frame of [pa, pa+len) up front, so a write either happens whole or not at all.
 * Should calloc fail midway, the frames already allocated stay: they read as zero, like before.
 */
static int frames_reserve(struct vtd_mem *m, uint64_t pa, uint64_t len)
{
    size_t missing = frames_missing(m, pa, len);
    if (!frames_allowed(m, missing) || !bytes_allowed(m, (uint64_t)missing * FRAME_ALLOC)) {
        m->refusal = !frames_allowed(m, missing) ? VTD_MEM_REFUSED_FRAMES : VTD_MEM_REFUSED_HOST;
        m->enomem++;
        return VTD_MEM_ENOMEM;
    }
    for (uint64_t fn = pa >> FRAME_SHIFT; fn <= last_fn(pa, len); fn++)
        if (!frame_get(m, fn))
            return VTD_MEM_ENOMEM;
    return VTD_MEM_OK;
}

/*
 * Before a write of [pa, pa+len) into the image: every byte must be backed (else EFAULT), and
 * the frames written for the first time, which the kernel is about to copy, must stay within
 * the limits (else ENOMEM, nothing marked). Then they are marked written.
 */
static __attribute__((noinline, cold)) int image_prepare_write(struct vtd_mem *m, uint64_t pa, uint64_t len)
{
    struct mem_image *img = m->image;
    if (!image_covers(img, pa, len))
        return VTD_MEM_EFAULT;
    size_t fresh = 0;
    for (uint64_t fn = pa >> FRAME_SHIFT; fn <= last_fn(pa, len); fn++)
        fresh += !image_dirty_test(img, image_frame_index(img, fn));
    if (!frames_allowed(m, fresh) || !bytes_allowed(m, (uint64_t)fresh * FRAME_SIZE)) {
        m->refusal = !frames_allowed(m, fresh) ? VTD_MEM_REFUSED_FRAMES : VTD_MEM_REFUSED_HOST;
        m->enomem++;
        return VTD_MEM_ENOMEM;
    }
    for (uint64_t fn = pa >> FRAME_SHIFT; fn <= last_fn(pa, len); fn++) {
        uint64_t i = image_frame_index(img, fn);
        img->dirty[i / 64] |= UINT64_C(1) << (i % 64);
    }
    img->dirty_frames += fresh;
    return VTD_MEM_OK;
}

/* Room for a write of [pa, pa+len): image frames marked, or sparse frames allocated. */
static int frames_prepare_write(struct vtd_mem *m, uint64_t pa, uint64_t len)
{
    return m->image ? image_prepare_write(m, pa, len) : frames_reserve(m, pa, len);
}

/* Bytes of [pa, pa+len) that lie in pa's frame. */
static size_t chunk_len(uint64_t pa, uint64_t len)
{
    size_t room = FRAME_SIZE - FRAME_OFFSET(pa);
    return len < room ? (size_t)len : room;
}

/* ---- lifetime and accounting ---- */

struct vtd_mem *vtd_mem_new(unsigned haw)
{
    if (haw < HAW_MIN || haw > HAW_MAX)
        return NULL;
    struct vtd_mem *m = vtd_calloc(1, sizeof *m);
    if (!m)
        return NULL;
    unsigned fn_bits = haw - FRAME_SHIFT;
    m->haw = haw;
    m->fast.end = UINT64_C(1) << haw;
    m->root_slots = fn_bits > 2 * NODE_BITS ? (size_t)1 << (fn_bits - 2 * NODE_BITS) : 1;
    m->root = vtd_calloc(m->root_slots, sizeof *m->root);
    if (!m->root) {
        vtd_free(m);
        return NULL;
    }
    for (size_t i = 0; i < VTD_MEM_FAST_SLOTS; i++)
        m->fast.slot[i].fn = NO_FRAME;
    return m;
}

/* Let the image go: unmapped, and the memory sparse again. */
static void image_detach(struct vtd_mem *m)
{
    struct mem_image *img = m->image;
    if (!img)
        return;
    img->unmap(img->map, img->map_len);
    vtd_free(img->seg);
    vtd_free(img->dirty);
    vtd_free(img);
    m->image = NULL;
}

static void leaf_free(struct leaf_node *leaf) { vtd_free(leaf); }

static void mid_free(struct mid_node *mid)
{
    for (size_t i = 0; i < NODE_SLOTS; i++)
        if (mid->leaf[i])
            leaf_free(mid->leaf[i]);
    vtd_free(mid);
}

void vtd_mem_free(struct vtd_mem *m)
{
    if (!m)
        return;
    slab_list_free(m->slabs); /* every frame, live or spare */
    for (size_t i = 0; i < m->root_slots; i++)
        if (m->root[i])
            mid_free(m->root[i]);
    vtd_free(m->root);
    vtd_free(m->aborts);
    image_detach(m);
    cpu_lines_free(&m->cpu);
    vtd_free(m);
}

/* Unlinks every frame but keeps them and the index nodes: a caller that fills memory again (a
 * fuzz harness, input after input) reuses them instead of allocating and clearing new ones. */
void vtd_mem_reset(struct vtd_mem *m)
{
    if (!m)
        return;
    while (m->live) {
        uint8_t *frame = m->live;
        struct frame_tail *t = tail_of(frame);
        m->live = t->next;
        m->root[t->fn >> (2 * NODE_BITS)]->leaf[NODE_INDEX(t->fn, 1)]->frame[NODE_INDEX(t->fn, 0)] = NULL;
        t->next = m->spare;
        m->spare = frame;
        m->spares++;
    }
    vtd_free(m->aborts);
    m->aborts = NULL;
    m->fast.n_aborts = 0;
    image_detach(m);
    for (size_t i = 0; i < VTD_MEM_FAST_SLOTS; i++)
        m->fast.slot[i] = (struct vtd_mem_slot){.fn = NO_FRAME, .frame = NULL};
    m->frames = m->frame_limit = 0;
    m->enomem = 0;
    m->observer = NULL;
    m->observer_arg = NULL;
    m->write_tag = 0;
    cpu_lines_clear(&m->cpu);
    m->cpu_on = false;
    m->fast.n_dirty = 0;
    m->generation++;
}

unsigned vtd_mem_haw(const struct vtd_mem *m) { return m ? m->haw : 0; }

void vtd_mem_set_frame_limit(struct vtd_mem *m, size_t max_frames)
{
    if (m)
        m->frame_limit = max_frames;
}

void vtd_mem_set_host_limit(struct vtd_mem *m, size_t bytes)
{
    if (m)
        m->host_limit = bytes;
}

enum vtd_mem_refusal vtd_mem_last_refusal(const struct vtd_mem *m) { return m ? m->refusal : VTD_MEM_REFUSED_NONE; }

size_t vtd_mem_frames(const struct vtd_mem *m) { return m ? frames_used(m) : 0; }

uint64_t vtd_mem_enomem_count(const struct vtd_mem *m) { return m ? m->enomem : 0; }

size_t vtd_mem_footprint(const struct vtd_mem *m)
{
    if (!m)
        return 0;
    /* Mid and leaf nodes have the same size, so one count covers both. */
    _Static_assert(sizeof(struct mid_node) == sizeof(struct leaf_node), "node sizes differ");
    size_t bytes = sizeof *m + m->root_slots * sizeof *m->root + m->nodes * sizeof(struct leaf_node) +
                   (m->frames + m->spares) * FRAME_ALLOC + m->fast.n_aborts * sizeof *m->aborts +
                   m->cpu.cap * sizeof(struct cpu_line);
    const struct mem_image *img = m->image;
    if (img)
        /* The mapping costs nothing until read; the frames written are private copies. */
        bytes += sizeof *img + img->n * sizeof *img->seg + img->dirty_words * sizeof *img->dirty +
                 img->dirty_frames * FRAME_SIZE;
    return bytes;
}

/* ---- 64-bit accesses ---- */

/*
 * A read whose frame is not in the frame cache, out of line and reached by a tail call so that
 * the hit path saves no registers. No frame: zero in sparse memory, a hole (an access error)
 * in an image.
 */
static __attribute__((noinline)) int read64_miss(struct vtd_mem *m, uint64_t pa, uint64_t *val)
{
    /* The index walk inlined: a walk over many address spaces misses on every space's tables
     * (bench_spaces), and each call level cost more than the walk itself. */
    const uint8_t *frame = frame_find_uncached(m, pa >> FRAME_SHIFT);
    if (!frame)
        return m->image ? VTD_MEM_EFAULT : (*val = 0, VTD_MEM_OK);
    *val = load_le64(frame + FRAME_OFFSET(pa));
    return VTD_MEM_OK;
}

/* Out of line: it is the walker's miss path (vtd_mem_read64_fast inlines the hit), and inlined
 * into the walks with link-time optimisation it would only crowd their registers. Memory itself,
 * past the CPU's cache. */
__attribute__((noinline)) int vtd_mem_read64_nosnoop(struct vtd_mem *m, uint64_t pa, uint64_t *val)
{
    if (!m || !val || (pa & 7))
        return VTD_MEM_EINVAL;
    if (pa >= m->fast.end || (m->fast.n_aborts && range_aborts(m, pa, 8, VTD_MEM_ABORT_READ)))
        return VTD_MEM_EFAULT;
    uint64_t fn = pa >> FRAME_SHIFT;
    const struct vtd_mem_slot *s = &m->fast.slot[vtd_mem_slot_index(fn)];
    if (s->fn != fn)
        return read64_miss(m, pa, val);
    *val = load_le64(s->frame + FRAME_OFFSET(pa)); /* a cached frame always exists */
    return VTD_MEM_OK;
}

/* The CPU's bytes of [pa, pa+len) over what memory gave in buf (a snooped read). */
static void cpu_overlay(const struct vtd_mem *m, uint64_t pa, uint8_t *buf, size_t len)
{
    for (uint64_t line = pa & CPU_LINE_MASK; line < pa + len; line += CPU_LINE_SIZE) {
        const uint8_t *d = cpu_lines_find(&m->cpu, line);
        if (!d)
            continue;
        uint64_t from = line > pa ? line : pa, to = line + CPU_LINE_SIZE < pa + len ? line + CPU_LINE_SIZE : pa + len;
        memcpy(buf + (from - pa), d + (from - line), (size_t)(to - from));
    }
}

int vtd_mem_read64(struct vtd_mem *m, uint64_t pa, uint64_t *val)
{
    int rc = vtd_mem_read64_nosnoop(m, pa, val);
    if (!rc && m->fast.n_dirty) {
        uint8_t b[8];
        store_le64(b, *val);
        cpu_overlay(m, pa, b, 8);
        *val = load_le64(b);
    }
    return rc;
}

const uint8_t *vtd_mem_frame_for_read(struct vtd_mem *m, uint64_t pa)
{
    return m && pa < m->fast.end ? frame_find(m, pa >> FRAME_SHIFT) : NULL;
}

const uint8_t *vtd_mem_frame_for_read_indexed(struct vtd_mem *m, uint64_t pa)
{
    return m && pa < m->fast.end ? frame_find_uncached_quiet(m, pa >> FRAME_SHIFT) : NULL;
}

/* Memory's bytes of the line at `line` (zero where no frame exists). */
static void line_from_memory(struct vtd_mem *m, uint64_t line, uint8_t out[CPU_LINE_SIZE])
{
    const uint8_t *frame = frame_find(m, line >> FRAME_SHIFT);
    if (frame)
        memcpy(out, frame + FRAME_OFFSET(line), CPU_LINE_SIZE);
    else
        memset(out, 0, CPU_LINE_SIZE);
}

/*
 * A software write into the CPU's cache: `src` (NULL: `fill`) over [pa, pa+len), line by line;
 * a line left equal to memory is clean and dropped. The checks, frames, observer and write tag
 * were done by the caller.
 */
static int cpu_store(struct vtd_mem *m, uint64_t pa, const uint8_t *src, uint8_t fill, uint64_t len)
{
    for (uint64_t line = pa & CPU_LINE_MASK; line < pa + len; line += CPU_LINE_SIZE) {
        uint8_t mem[CPU_LINE_SIZE];
        line_from_memory(m, line, mem);
        uint8_t *d = cpu_lines_find(&m->cpu, line);
        if (!d) {
            /* The table of dirty lines counts against the host limit like frames do (it
             * doubles when half full). */
            bool grows = 2 * (m->cpu.n + 1) > m->cpu.cap;
            uint64_t more = grows ? (m->cpu.cap ? m->cpu.cap : 32) * 2 * sizeof(struct cpu_line) : 0;
            bool allowed = bytes_allowed(m, more);
            if (!allowed || !(d = cpu_lines_add(&m->cpu, line))) {
                m->refusal = allowed ? VTD_MEM_REFUSED_ALLOC : VTD_MEM_REFUSED_HOST;
                m->enomem++;
                return VTD_MEM_ENOMEM;
            }
            memcpy(d, mem, CPU_LINE_SIZE); /* a line starts as memory holds it */
        }
        uint64_t from = line > pa ? line : pa, to = line + CPU_LINE_SIZE < pa + len ? line + CPU_LINE_SIZE : pa + len;
        if (src)
            memcpy(d + (from - line), src + (from - pa), (size_t)(to - from));
        else
            memset(d + (from - line), fill, (size_t)(to - from));
        if (!memcmp(d, mem, CPU_LINE_SIZE))
            cpu_lines_remove(&m->cpu, line);
        m->fast.n_dirty = m->cpu.n;
    }
    return VTD_MEM_OK;
}

int vtd_mem_write64(struct vtd_mem *m, uint64_t pa, uint64_t val)
{
    if (!m || (pa & 7))
        return VTD_MEM_EINVAL;
    m->generation++;
    if (pa >= m->fast.end || (m->fast.n_aborts && range_aborts(m, pa, 8, VTD_MEM_ABORT_WRITE)))
        return VTD_MEM_EFAULT;
    int rc = m->image ? image_prepare_write(m, pa, 8) : VTD_MEM_OK;
    if (rc)
        return rc;
    uint8_t *frame = frame_get(m, pa >> FRAME_SHIFT);
    if (!frame)
        return VTD_MEM_ENOMEM;
    if (m->observer) {
        uint8_t bytes[8];
        store_le64(bytes, val);
        m->observer(m->observer_arg, pa, 8, bytes, 0);
    }
    stamp_write(m, frame);
    if (m->cpu_on) {
        uint8_t bytes[8];
        store_le64(bytes, val);
        return cpu_store(m, pa, bytes, 0, 8);
    }
    store_le64(frame + FRAME_OFFSET(pa), val);
    return VTD_MEM_OK;
}

void vtd_mem_set_write_tag(struct vtd_mem *m, uint64_t tag) { m->write_tag = tag; }

uint64_t vtd_mem_write_tag_of(struct vtd_mem *m, uint64_t pa)
{
    uint8_t *frame = m && pa < m->fast.end ? frame_find(m, pa >> FRAME_SHIFT) : NULL;
    return frame && !m->image ? tail_of(frame)->write_tag : 0;
}

void vtd_mem_set_observer(struct vtd_mem *m, vtd_mem_observer fn, void *arg)
{
    m->observer = fn;
    m->observer_arg = arg;
}

int vtd_mem_cmpxchg64(struct vtd_mem *m, uint64_t pa, uint64_t expected, uint64_t desired, uint64_t *actual)
{
    if (!m || !actual || (pa & 7))
        return VTD_MEM_EINVAL;
    /* Hardware A/D updates are locked read-modify-writes: either abort kind stops them. */
    if (pa >= m->fast.end || (m->fast.n_aborts && range_aborts(m, pa, 8, VTD_MEM_ABORT_READ | VTD_MEM_ABORT_WRITE)))
        return VTD_MEM_EFAULT;
    const uint8_t *found = frame_find(m, pa >> FRAME_SHIFT);
    if (!found && m->image)
        return VTD_MEM_EFAULT; /* a hole in the image */
    uint8_t *line = m->fast.n_dirty ? cpu_lines_find(&m->cpu, pa & CPU_LINE_MASK) : NULL;
    if (line) {
        /* A snooped locked update of a line the CPU holds dirty happens in that line. */
        uint8_t *w = line + (pa & (CPU_LINE_SIZE - 1));
        *actual = load_le64(w);
        if (*actual == expected && desired != expected) {
            store_le64(w, desired);
            m->generation++;
        }
        return VTD_MEM_OK;
    }
    uint64_t cur = found ? load_le64(found + FRAME_OFFSET(pa)) : 0;
    if (cur == expected && desired != cur) {
        /* Only a store that changes the word needs a frame. */
        int rc = m->image ? image_prepare_write(m, pa, 8) : VTD_MEM_OK;
        if (rc)
            return rc;
        uint8_t *frame = frame_get(m, pa >> FRAME_SHIFT);
        if (!frame)
            return VTD_MEM_ENOMEM;
        store_le64(frame + FRAME_OFFSET(pa), desired);
        m->generation++;
    }
    *actual = cur;
    return VTD_MEM_OK;
}

/* ---- block accesses ---- */

int vtd_mem_read_nosnoop(struct vtd_mem *m, uint64_t pa, void *buf, size_t len)
{
    if (!m || !buf)
        return VTD_MEM_EINVAL;
    if (len == 0)
        return VTD_MEM_OK;
    int rc = block_check(m, pa, len, VTD_MEM_ABORT_READ);
    if (rc)
        return rc;
    for (uint8_t *out = buf; len;) {
        size_t n = chunk_len(pa, len);
        const uint8_t *frame = frame_find(m, pa >> FRAME_SHIFT);
        if (frame)
            memcpy(out, frame + FRAME_OFFSET(pa), n);
        else
            memset(out, 0, n);
        out += n, pa += n, len -= n;
    }
    return VTD_MEM_OK;
}

int vtd_mem_read(struct vtd_mem *m, uint64_t pa, void *buf, size_t len)
{
    int rc = vtd_mem_read_nosnoop(m, pa, buf, len);
    if (!rc && len && m->fast.n_dirty)
        cpu_overlay(m, pa, buf, len);
    return rc;
}

int vtd_mem_write(struct vtd_mem *m, uint64_t pa, const void *buf, size_t len)
{
    if (!m || !buf)
        return VTD_MEM_EINVAL;
    m->generation++;
    if (len == 0)
        return VTD_MEM_OK;
    int rc = block_check(m, pa, len, VTD_MEM_ABORT_WRITE);
    if (!rc)
        rc = frames_prepare_write(m, pa, len);
    if (rc)
        return rc;
    if (m->observer)
        m->observer(m->observer_arg, pa, len, buf, 0);
    if (m->cpu_on) {
        for (uint64_t a = pa & ~(uint64_t)(FRAME_SIZE - 1); a < pa + len; a += FRAME_SIZE)
            stamp_write(m, frame_find(m, a >> FRAME_SHIFT));
        return cpu_store(m, pa, buf, 0, len);
    }
    for (const uint8_t *in = buf; len;) {
        size_t n = chunk_len(pa, len);
        uint8_t *frame = frame_find(m, pa >> FRAME_SHIFT);
        memcpy(frame + FRAME_OFFSET(pa), in, n);
        stamp_write(m, frame);
        in += n, pa += n, len -= n;
    }
    return VTD_MEM_OK;
}

/*
 * Zero fill skips frames never written: they already read as zero, and the builder zeroes
 * whole pools of table pages it may never use.
 */
int vtd_mem_fill(struct vtd_mem *m, uint64_t pa, uint8_t byte, size_t len)
{
    if (!m)
        return VTD_MEM_EINVAL;
    m->generation++;
    if (len == 0)
        return VTD_MEM_OK;
    int rc = block_check(m, pa, len, VTD_MEM_ABORT_WRITE);
    if (!rc && (byte != 0 || m->image))
        rc = frames_prepare_write(m, pa, len);
    if (rc)
        return rc;
    if (m->observer)
        m->observer(m->observer_arg, pa, len, NULL, byte);
    if (m->cpu_on)
        return cpu_store(m, pa, NULL, byte, len);
    while (len) {
        size_t n = chunk_len(pa, len);
        uint8_t *frame = frame_find(m, pa >> FRAME_SHIFT);
        if (frame) {
            memset(frame + FRAME_OFFSET(pa), byte, n);
            stamp_write(m, frame);
        }
        pa += n, len -= n;
    }
    return VTD_MEM_OK;
}

/* ---- abort ranges ---- */

/*
 * Semantics: each byte takes the flags of the latest vtd_mem_set_abort call covering it, so a
 * later range overrides earlier ones where they overlap, and flags 0 clears marking from exactly
 * [pa, pa+len) (splitting an older range if needed). The set is stored as disjoint ranges.
 *
 * Ranges may extend beyond the host address width (those bytes are unreachable anyway); a range
 * wrapping past 2^64 or unknown flags give VTD_MEM_EINVAL; len 0 changes nothing.
 */
int vtd_mem_set_abort(struct vtd_mem *m, uint64_t pa, uint64_t len, unsigned flags)
{
    if (!m || (flags & ~(VTD_MEM_ABORT_READ | VTD_MEM_ABORT_WRITE)) || pa + len < pa)
        return VTD_MEM_EINVAL;
    if (len == 0)
        return VTD_MEM_OK;
    m->generation++;
    uint64_t end = pa + len;
    /* Old ranges are disjoint, so at most one of them is split in two: n + 1 pieces, + the new one. */
    struct abort_range *next = vtd_malloc((m->fast.n_aborts + 2) * sizeof *next);
    if (!next)
        return VTD_MEM_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < m->fast.n_aborts; i++) {
        struct abort_range r = m->aborts[i];
        if (r.end <= pa || r.start >= end) {
            next[n++] = r;
            continue;
        }
        if (r.start < pa)
            next[n++] = (struct abort_range){r.start, pa, r.flags};
        if (r.end > end)
            next[n++] = (struct abort_range){end, r.end, r.flags};
    }
    if (flags)
        next[n++] = (struct abort_range){pa, end, flags};
    if (n == 0) {
        vtd_free(next);
        next = NULL;
    }
    vtd_free(m->aborts);
    m->aborts = next;
    m->fast.n_aborts = n;
    return VTD_MEM_OK;
}

/* ---- image backing (mem_image.c maps the file) ---- */

int vtd_mem_back(struct vtd_mem *m, struct vtd_mem_backing_seg *seg, size_t n, void *map, size_t map_len,
                 vtd_mem_unmap_fn unmap)
{
    if (m->image || m->frames)
        return -EBUSY; /* the image would hide data already written */
    uint64_t frames = 0;
    for (size_t i = 0; i < n; i++) {
        seg[i].first_frame = frames;
        frames += seg[i].len >> FRAME_SHIFT;
    }
    struct mem_image *img = vtd_calloc(1, sizeof *img);
    size_t words = (size_t)((frames + 63) / 64);
    uint64_t *dirty = img ? vtd_calloc(words ? words : 1, sizeof *dirty) : NULL;
    if (!dirty) {
        vtd_free(img);
        return VTD_MEM_ENOMEM;
    }
    *img = (struct mem_image){.seg = seg, .n = n, .map = map, .map_len = map_len, .unmap = unmap,
                              .dirty = dirty, .dirty_words = words};
    m->image = img; /* no frame exists, so the frame cache holds nothing to forget */
    m->generation++;
    return VTD_MEM_OK;
}

size_t vtd_mem_image_segments(const struct vtd_mem *m, struct vtd_mem_image_segment *out, size_t max)
{
    if (!m || !m->image)
        return 0;
    const struct mem_image *img = m->image;
    for (size_t i = 0; i < img->n && i < max; i++)
        out[i] = (struct vtd_mem_image_segment){.pa = img->seg[i].pa, .len = img->seg[i].len,
                                                 .file_offset = img->seg[i].file_offset};
    return img->n;
}

bool vtd_mem_backed(const struct vtd_mem *m, uint64_t pa, uint64_t len)
{
    if (!m || len == 0 || !range_in_width(m, pa, len))
        return false;
    return !m->image || image_covers(m->image, pa, len);
}

/* ---- the CPU's write-back cache (mem.h) ---- */

/* Write the dirty line at `line` to memory and drop it. */
static int line_write_back(struct vtd_mem *m, uint64_t line)
{
    const uint8_t *d = cpu_lines_find(&m->cpu, line);
    if (!d)
        return VTD_MEM_OK;
    uint8_t *frame = frame_find(m, line >> FRAME_SHIFT);
    if (!frame)
        return VTD_MEM_ENOMEM; /* the write reserved it: never reached */
    memcpy(frame + FRAME_OFFSET(line), d, CPU_LINE_SIZE);
    m->generation++;
    cpu_lines_remove(&m->cpu, line);
    m->fast.n_dirty = m->cpu.n;
    return VTD_MEM_OK;
}

int vtd_mem_clflush(struct vtd_mem *m, uint64_t pa, uint64_t len, size_t *written)
{
    if (!m || pa + len < pa)
        return VTD_MEM_EINVAL;
    size_t before = m->cpu.n;
    int rc = VTD_MEM_OK;
    if (len / CPU_LINE_SIZE > m->cpu.cap) {
        /* A range wider than the table: visit the lines held instead of the addresses. */
        for (size_t i = 0; i < m->cpu.cap && !rc; i++) {
            uint64_t key = m->cpu.slot[i].key;
            if (key && key - 1 + CPU_LINE_SIZE > pa && key - 1 < pa + len && !(rc = line_write_back(m, key - 1)))
                i--; /* backward-shift deletion may have moved another line here */
        }
    } else {
        for (uint64_t line = pa & CPU_LINE_MASK; line < pa + len && !rc && m->cpu.n; line += CPU_LINE_SIZE)
            rc = line_write_back(m, line);
    }
    if (written)
        *written = before - m->cpu.n;
    return rc;
}

int vtd_mem_wbinvd(struct vtd_mem *m, size_t *written)
{
    if (!m)
        return VTD_MEM_EINVAL;
    return vtd_mem_clflush(m, 0, UINT64_MAX, written);
}

int vtd_mem_set_cpu_cache(struct vtd_mem *m, bool on)
{
    if (!m)
        return VTD_MEM_EINVAL;
    int rc = on ? VTD_MEM_OK : vtd_mem_wbinvd(m, NULL);
    if (!rc)
        m->cpu_on = on;
    return rc;
}

bool vtd_mem_cpu_cache_on(const struct vtd_mem *m) { return m && m->cpu_on; }

uint64_t vtd_mem_generation(const struct vtd_mem *m) { return m->generation; }

bool vtd_mem_cpu_pending(struct vtd_mem *m, uint64_t pa, uint64_t *cpu_val, uint64_t *mem_val)
{
    const uint8_t *d = m && m->fast.n_dirty && !(pa & 7) ? cpu_lines_find(&m->cpu, pa & CPU_LINE_MASK) : NULL;
    uint64_t mem = 0;
    if (!d || vtd_mem_read64_nosnoop(m, pa, &mem))
        return false;
    uint64_t cpu = load_le64(d + (pa & (CPU_LINE_SIZE - 1)));
    *cpu_val = cpu;
    *mem_val = mem;
    return cpu != mem;
}
