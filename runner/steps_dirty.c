/*
 * steps_dirty.c: the dirty-tracking steps of a migration scenario and the runner's own check of
 * them. `dirty_pages` is VFIO_IOMMU_DIRTY_PAGES (START, STOP, GET_BITMAP), `hwpt_set_dirty` and
 * `hwpt_get_dirty` iommufd's two calls (host/container.h). While tracking is on, the runner
 * notes every page a device wrote through the container's second stage (requests without PASID:
 * their address is the IOVA the bitmaps speak of) and every page a bitmap reported; `expect:
 * {all_writes_reported: true}` holds when, for each page written, a bitmap retrieved after its
 * last write reported it. That is the migration's correctness condition: a page written after
 * the round that copied it and never reported again keeps its old contents on the destination.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <linux/vfio.h>

#include "host/container.h"
#include "runner/run_internal.h"
#include "walker/alloc.h"

/* Pages (address >> 12) with the last time they were met, appended as met and merged (one
 * entry per page, the latest time) when read. */
struct page_at {
    uint64_t page, when;
};
struct page_set {
    struct page_at *p;
    size_t n, cap;
    bool sorted;
};

struct ex_dirty {
    bool tracking;
    uint64_t clock;           /* orders writes and reports */
    struct page_set written, reported;
    uint64_t step_reported;   /* pages the last bitmap step reported */
};

/* The largest bitmap the runner allocates for one step (1 TiB at 4 KiB a bit). */
#define BITMAP_MAX_BYTES (UINT64_C(32) << 20)

static int cmp_page(const void *a, const void *b)
{
    const struct page_at *x = a, *y = b;
    if (x->page != y->page)
        return x->page < y->page ? -1 : 1;
    return x->when < y->when ? -1 : x->when > y->when;
}

static void set_normalise(struct page_set *s)
{
    if (s->sorted || !s->n)
        return;
    qsort(s->p, s->n, sizeof *s->p, cmp_page);
    size_t out = 1;
    for (size_t i = 1; i < s->n; i++) {
        if (s->p[i].page != s->p[out - 1].page)
            out++;
        s->p[out - 1] = s->p[i]; /* sorted by time within a page: the last is the latest */
    }
    s->n = out;
    s->sorted = true;
}

static int set_add(struct page_set *s, uint64_t page, uint64_t when)
{
    if (s->n && s->p[s->n - 1].page == page) {
        s->p[s->n - 1].when = when;
        return 0;
    }
    if (s->n == s->cap) {
        set_normalise(s); /* duplicates out before growing */
        if (s->n == s->cap) {
            size_t cap = s->cap ? 2 * s->cap : 256;
            struct page_at *p = vtd_realloc(s->p, cap * sizeof *p);
            if (!p)
                return -ENOMEM;
            s->p = p;
            s->cap = cap;
        }
    }
    if (s->n && s->p[s->n - 1].page > page)
        s->sorted = false;
    s->p[s->n++] = (struct page_at){page, when};
    return 0;
}

/* When a (merged) set last met the page; 0: never. */
static uint64_t set_when(const struct page_set *s, uint64_t page)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->p[mid].page < page)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n && s->p[lo].page == page ? s->p[lo].when : 0;
}

static void set_clear(struct page_set *s)
{
    s->n = 0;
    s->sorted = true;
}

static struct ex_dirty *dirty_of(struct ex *e)
{
    if (!e->dirty && (e->dirty = vtd_calloc(1, sizeof *e->dirty)))
        e->dirty->written.sorted = e->dirty->reported.sorted = true;
    return e->dirty;
}

void ex_dirty_free(struct ex *e)
{
    if (!e->dirty)
        return;
    vtd_free(e->dirty->written.p);
    vtd_free(e->dirty->reported.p);
    vtd_free(e->dirty);
    e->dirty = NULL;
}

bool ex_dirty_may_note(const struct ex *e, const struct vtd_request *req)
{
    const struct ex_dirty *d = e->dirty;
    return d && d->tracking && !req->pasid_valid && (req->access & VTD_ACC_W) && req->kind != VTD_REQ_TRANSLATION;
}

void ex_dirty_note_dma(struct ex *e, const struct outcome *o)
{
    struct ex_dirty *d = e->dirty;
    if (o->fault || !ex_dirty_may_note(e, &o->req))
        return;
    if (set_add(&d->written, o->req.addr >> VTD_PAGE_SHIFT, ++d->clock))
        vtd_iommu_count_alloc_failure(e->io);
}

/* Tracking went on (a new cycle: nothing written or reported yet) or off (kept for checks). */
static void tracking_changed(struct ex_dirty *d, bool on)
{
    if (on && !d->tracking) {
        set_clear(&d->written);
        set_clear(&d->reported);
    }
    d->tracking = on;
}

/* The bits of a returned bitmap as 4 KiB pages, one bit per `pgsize` bytes from `iova`. */
static int note_bitmap(struct ex_dirty *d, const uint64_t *bm, uint64_t nbits, uint64_t iova, uint64_t pgsize,
                       bool discard)
{
    d->step_reported = 0;
    d->clock++;
    for (uint64_t i = 0; i < nbits; i++) {
        if (!(bm[i / 64] & (UINT64_C(1) << (i % 64))))
            continue;
        d->step_reported++;
        for (uint64_t off = 0; !discard && off < pgsize; off += VTD_PAGE_SIZE)
            if (set_add(&d->reported, (iova + i * pgsize + off) >> VTD_PAGE_SHIFT, d->clock))
                return -ENOMEM;
    }
    return 0;
}

/* The bitmap a step hands the kernel: bitmap_size bytes as given (the kernel checks it), else
 * enough for the range; the runner allocates what the range needs at most. */
static uint64_t bitmap_bytes(const struct sc_step *st, uint64_t size, uint64_t pgsize, uint64_t *given)
{
    uint64_t shift = pgsize ? (uint64_t)__builtin_ctzll(pgsize) : 12;
    uint64_t need = ((size >> shift) + 63) / 64 * 8;
    *given = ARG_OR(st, A_BITMAP_SIZE, need);
    return *given < need ? *given : need;
}

/* VFIO_IOMMU_DIRTY_PAGES, built the way user space builds it: the header, then for GET_BITMAP
 * a struct vfio_iommu_type1_dirty_bitmap_get. */
static int dirty_pages(struct ex *e, const struct sc_step *st, struct outcome *o, struct ex_dirty *d)
{
    /* The header's fields spelled out: the uAPI struct ends in a flexible array, which may not
     * sit inside another struct (its layout is checked below). */
    struct {
        struct { __u32 argsz, flags; } h;
        struct vfio_iommu_type1_dirty_bitmap_get get;
    } arg = {0};
    _Static_assert(sizeof arg.h == offsetof(struct vfio_iommu_type1_dirty_bitmap, data), "dirty_bitmap header");
    uint32_t op = (uint32_t)ARGV(st, A_OP);
    bool get = op == VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
    uint64_t iova = ARG_OR(st, A_IOVA, 0), size = ARG_OR(st, A_SIZE, 0), pgsize = ARG_OR(st, A_PGSIZE, VTD_PAGE_SIZE);
    uint64_t given = 0, alloc = get ? bitmap_bytes(st, size, pgsize, &given) : 0;
    if (alloc > BITMAP_MAX_BYTES) {
        o->err_what = "dirty_pages (the bitmap is larger than the runner's 32 MiB)";
        return -ENOMEM;
    }
    uint64_t *bm = alloc ? vtd_calloc(1, alloc) : NULL;
    if (alloc && !bm)
        return -ENOMEM;
    arg.h.argsz = (uint32_t)ARG_OR(st, A_ARGSZ, get ? sizeof arg : sizeof arg.h);
    arg.h.flags = (uint32_t)ARG_OR(st, A_FLAGS, op);
    arg.get = (struct vfio_iommu_type1_dirty_bitmap_get){
        .iova = iova, .size = size, .bitmap = {.pgsize = pgsize, .size = get ? given : 0, .data = (__u64 *)(void *)bm}};
    int rc = vtd_container_ioctl(e->c, VFIO_IOMMU_DIRTY_PAGES, &arg);
    if (!rc && get && pgsize)
        rc = note_bitmap(d, bm, alloc * 8 < size / pgsize ? alloc * 8 : size / pgsize, iova, pgsize,
                         ARG_OR(st, A_DISCARD, 0));
    if (!rc && (arg.h.flags == VFIO_IOMMU_DIRTY_PAGES_FLAG_START || arg.h.flags == VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP))
        tracking_changed(d, arg.h.flags == VFIO_IOMMU_DIRTY_PAGES_FLAG_START);
    vtd_free(bm);
    return rc;
}

static int hwpt_get_dirty(struct ex *e, const struct sc_step *st, struct outcome *o, struct ex_dirty *d)
{
    uint64_t iova = ARG_OR(st, A_IOVA, 0), size = ARG_OR(st, A_SIZE, 0), pgsize = ARG_OR(st, A_PGSIZE, VTD_PAGE_SIZE);
    /* iommufd sizes the bitmap from the range itself: always enough for it. */
    uint64_t given, alloc = bitmap_bytes(st, size, pgsize, &given);
    if (alloc > BITMAP_MAX_BYTES) {
        o->err_what = "hwpt_get_dirty (the bitmap is larger than the runner's 32 MiB)";
        return -ENOMEM;
    }
    uint64_t *bm = vtd_calloc(1, alloc ? alloc : 8);
    if (!bm)
        return -ENOMEM;
    uint32_t flags = (uint32_t)ARG_OR(st, A_FLAGS, ARG_OR(st, A_NO_CLEAR, 0) ? VTD_HWPT_GET_DIRTY_BITMAP_NO_CLEAR : 0);
    int rc = vtd_container_hwpt_get_dirty_bitmap(e->c, iova, size, pgsize, flags, (uint32_t)ARG_OR(st, A_VALUE, 0), bm);
    if (!rc && pgsize)
        rc = note_bitmap(d, bm, size / pgsize, iova, pgsize, ARG_OR(st, A_DISCARD, 0));
    vtd_free(bm);
    return rc;
}

int ex_dirty_step(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    o->err_what = sc_kind_name(st->kind);
    if (!e->c) {
        o->err_what = "dirty-tracking step without a `container:` section";
        return -ENODEV;
    }
    struct ex_dirty *d = dirty_of(e);
    if (!d)
        return -ENOMEM;
    if (st->kind == SK_DIRTY_PAGES)
        return dirty_pages(e, st, o, d);
    if (st->kind == SK_HWPT_GET_DIRTY)
        return hwpt_get_dirty(e, st, o, d);
    uint32_t flags = (uint32_t)ARG_OR(st, A_FLAGS, ARG_OR(st, A_ENABLE, 1) ? VTD_HWPT_DIRTY_TRACKING_ENABLE : 0);
    int rc = vtd_container_hwpt_set_dirty_tracking(e->c, flags);
    if (!rc)
        tracking_changed(d, vtd_container_dirty_tracking(e->c));
    return rc;
}

/* ---- the expectations ---- */

/* A written page is reported when a bitmap retrieved after its last write holds it: one
 * retrieved before was copied with the old contents. */
static bool page_reported(const struct ex_dirty *d, const struct page_at *w)
{
    return set_when(&d->reported, w->page) > w->when;
}

/* The written pages no later bitmap reported, the first few listed. */
static void list_unreported(const struct ex_dirty *d, FILE *f)
{
    uint64_t missing = 0;
    for (size_t i = 0; i < d->written.n; i++) {
        if (page_reported(d, &d->written.p[i]))
            continue;
        if (missing++ < 8)
            fprintf(f, "      written, not reported after the write: 0x%llx%s\n",
                    (unsigned long long)(d->written.p[i].page << VTD_PAGE_SHIFT),
                    set_when(&d->reported, d->written.p[i].page) ? " (reported only before it)" : "");
    }
    if (missing > 8)
        fprintf(f, "      ... %llu such pages in all\n", (unsigned long long)missing);
}

static bool all_reported(struct ex_dirty *d)
{
    set_normalise(&d->written);
    set_normalise(&d->reported);
    for (size_t i = 0; i < d->written.n; i++)
        if (!page_reported(d, &d->written.p[i]))
            return false;
    return true;
}

void ex_check_dirty(struct ex *e, const struct sc_step *st, const struct outcome *o, FILE **f)
{
    const struct sc_expect *x = &st->expect;
    struct ex_dirty empty = {.written.sorted = true, .reported.sorted = true};
    struct ex_dirty *d = e->dirty ? e->dirty : &empty;
    (void)o;
    if (x->given[E_ALL_WRITES_REPORTED]) {
        bool got = all_reported(d);
        e->r->checks++;
        if (got != (x->v[E_ALL_WRITES_REPORTED] != 0)) {
            FILE *out = ex_want(e, st, f);
            fprintf(out, "    expected all_writes_reported %s, got %s (%zu page(s) written, %zu reported)\n",
                    got ? "false" : "true", got ? "true" : "false", d->written.n, d->reported.n);
            list_unreported(d, out);
        }
    }
    if (x->given[E_PAGES_WRITTEN]) {
        set_normalise(&d->written);
        e->r->checks++;
        if (d->written.n != x->v[E_PAGES_WRITTEN])
            fprintf(ex_want(e, st, f), "    expected pages_written %llu, got %zu\n",
                    (unsigned long long)x->v[E_PAGES_WRITTEN], d->written.n);
    }
    if (x->given[E_PAGES_REPORTED]) {
        e->r->checks++;
        if (d->step_reported != x->v[E_PAGES_REPORTED])
            fprintf(ex_want(e, st, f), "    expected pages_reported %llu (bits set by this step's bitmap), got %llu\n",
                    (unsigned long long)x->v[E_PAGES_REPORTED], (unsigned long long)d->step_reported);
    }
}
