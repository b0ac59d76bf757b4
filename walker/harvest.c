/*
 * harvest.c: reading and clearing second-stage D bits over a range (host/harvest.h). One table
 * page is read at a time (512 entries) and only the ranges asked for are descended into, so a
 * harvest costs about what a plain read of the same leaves costs, plus one compare-exchange per
 * dirty leaf.
 */
#include "walker/harvest.h"

#include <errno.h>

#include "walker/bits.h"
#include "walker/ss_entry.h"

#define ENTRIES 512u
/* Present for software: any of R, W, X (VT-d 9.8; X counts only with SSEE, but a harvest
 * reading an entry with X alone set finds no D to report anyway). */
#define SS_PRESENT (VTD_SS_R | VTD_SS_W | VTD_SS_X)

struct harvest {
    struct vtd_mem *m;
    uint64_t lo, hi;        /* the range, last byte inclusive */
    bool clear;
    vtd_harvest_fn fn;
    void *arg;
    struct vtd_harvest_stats *st;
};

/* Clear D in the leaf at `addr` whose value was read as `e`: a device may set A or D between
 * the read and the write, so the exchange retries on the value it finds. */
static int clear_dirty(struct vtd_mem *m, uint64_t addr, uint64_t e)
{
    for (;;) {
        uint64_t actual;
        int rc = vtd_mem_cmpxchg64(m, addr, e, e & ~VTD_SS_D, &actual);
        if (rc)
            return -EFAULT;
        if (actual == e)
            return 0;
        e = actual;
    }
}

static void dirty_leaf(struct harvest *h, uint64_t va, unsigned shift)
{
    uint64_t start = va < h->lo ? h->lo : va;
    uint64_t end = va + ((UINT64_C(1) << shift) - 1);
    if (end > h->hi)
        end = h->hi;
    if (!h->st->dirty++)
        h->st->first = start;
    h->st->last = end;
    if (h->fn)
        h->fn(h->arg, start, end - start + 1);
}

static int harvest_table(struct harvest *h, uint64_t table, unsigned level, uint64_t base)
{
    uint64_t e[ENTRIES];
    unsigned shift = vtd_pt_level_shift(level);
    /* Only entries overlapping the range are descended into: lo - base is within this table. */
    unsigned first = h->lo > base ? (unsigned)((h->lo - base) >> shift) : 0;
    unsigned last = (h->hi - base) >> shift >= ENTRIES ? ENTRIES - 1 : (unsigned)((h->hi - base) >> shift);
    if (vtd_mem_read(h->m, table, e, sizeof e))
        return -EFAULT;
    for (unsigned i = first; i <= last; i++) {
        if (!(e[i] & SS_PRESENT))
            continue;
        uint64_t va = base + ((uint64_t)i << shift);
        if (!vtd_ss_entry_is_leaf(e[i], level)) {
            int rc = harvest_table(h, e[i] & VTD_SS_ADDR, level - 1, va);
            if (rc)
                return rc;
            continue;
        }
        h->st->leaves++;
        if (!(e[i] & VTD_SS_D))
            continue;
        dirty_leaf(h, va, shift);
        if (h->clear && clear_dirty(h->m, table + 8 * (uint64_t)i, e[i]))
            return -EFAULT;
    }
    return 0;
}

int vtd_ss_harvest(struct vtd_mem *m, uint64_t root, unsigned levels, uint64_t iova, uint64_t size, bool clear,
                   vtd_harvest_fn fn, void *arg, struct vtd_harvest_stats *st)
{
    struct vtd_harvest_stats ignored;
    if (!st)
        st = &ignored;
    *st = (struct vtd_harvest_stats){0};
    if (!size || levels < 3 || levels > 5)
        return 0;
    uint64_t width_last = (UINT64_C(1) << vtd_pt_level_shift(levels + 1)) - 1;
    uint64_t hi = iova + size - 1 < iova ? UINT64_MAX : iova + size - 1;
    if (iova > width_last)
        return 0;
    struct harvest h = {m, iova, hi > width_last ? width_last : hi, clear, fn, arg, st};
    return harvest_table(&h, root, levels, 0);
}
