/*
 * mappings.c: an address space's mappings from one walk of its page tables (VT-d 9.7, 9.8),
 * merged into ranges as they are found. Nested spaces run the second-stage enumeration over
 * each first-stage leaf's guest-physical range.
 */
#include "inspect/mappings.h"

#include "inspect/pt_read.h"
#include "walker/fs_entry.h"
#include "walker/ss_entry.h"

struct map_walk {
    const struct vtd_inspect *in;
    const struct vtd_pasid_cfg *pe;
    struct vtd_walk_env env;       /* dry run: nested table addresses through the second stage */
    vtd_insp_range_fn fn;
    void *arg;
    struct vtd_insp_map_stats *st;
    struct vtd_insp_range pending; /* the range being extended (size 0: none) */
    int rc;                        /* a callback's nonzero value: stop */
};

/* A piece of second-stage output for the nested enumeration: where a first-stage leaf lands. */
struct ss_sink {
    uint64_t va_minus_gpa;         /* add to a guest-physical address to get the input address */
    unsigned fs_shift, fs_perm;
    bool nested;
};

static void flush(struct map_walk *w)
{
    if (!w->pending.size || w->rc)
        return;
    w->st->ranges++;
    w->rc = w->fn(w->arg, &w->pending);
    w->pending.size = 0;
}

/* One leaf (or piece of one): extends the pending range when both sides are contiguous. */
static void emit(struct map_walk *w, uint64_t iova, uint64_t out, uint64_t size, unsigned shift, unsigned perm)
{
    struct vtd_insp_range *p = &w->pending;
    if (w->st->leaves == (w->in->max_leaves ? w->in->max_leaves : VTD_INSP_MAX_LEAVES)) {
        w->st->truncated = true;
        return;
    }
    w->st->leaves++;
    if (p->size && p->iova + p->size == iova && p->out + p->size == out && p->page_shift == shift &&
        p->perm == perm) {
        p->size += size;
        return;
    }
    flush(w);
    *p = (struct vtd_insp_range){.iova = iova, .out = out, .size = size, .page_shift = shift, .perm = perm};
}

/* The permission bits of one second-stage entry (X implied without SSEE, as the walk does). */
static unsigned ss_perm(uint64_t e, bool ssee)
{
    unsigned p = (unsigned)(e & (VTD_SS_R | VTD_SS_W | VTD_SS_X));
    return ssee ? p : p | VTD_PERM_X;
}

/* Second-stage entries of `table` (level `level`, mapping from `base`) that meet [lo, hi]. */
static void ss_enum(struct map_walk *w, const struct ss_sink *s, uint64_t table, unsigned level, uint64_t base,
                    uint64_t lo, uint64_t hi, unsigned perm)
{
    uint64_t ent[VTD_INSP_PT_ENTRIES];
    unsigned shift = vtd_pt_level_shift(level);
    uint64_t span = UINT64_C(1) << shift;
    vtd_insp_read_table(w->in->mem, table, ent);
    unsigned first = lo > base ? (unsigned)((lo - base) >> shift) : 0;
    for (unsigned i = first; i < VTD_INSP_PT_ENTRIES && !w->rc && !w->st->truncated; i++) {
        uint64_t start = base + (uint64_t)i * span, last = start + (span - 1);
        if (start > hi)
            break;
        uint64_t e = ent[i];
        if (!vtd_ss_entry_present(e, w->pe->ssee))
            continue;
        if (e & vtd_ss_entry_rsvd_mask(e, level, &w->in->caps)) {
            w->st->bad_entries++;
            continue;
        }
        unsigned p = perm & ss_perm(e, w->pe->ssee);
        if (!vtd_ss_entry_is_leaf(e, level)) {
            ss_enum(w, s, vtd_ss_entry_addr(e, level), level - 1, start, lo, hi, p);
            continue;
        }
        uint64_t from = start < lo ? lo : start, to = last > hi ? hi : last;
        uint64_t out = vtd_ss_entry_addr(e, level) + (from - start);
        if (!s->nested)
            emit(w, from, out, to - from + 1, shift, p | VTD_PERM_U);
        else
            emit(w, from + s->va_minus_gpa, out, to - from + 1, shift < s->fs_shift ? shift : s->fs_shift,
                 (s->fs_perm & (p | VTD_PERM_U)) & VTD_PERM_ALL);
    }
}

/* The permission bits of one first-stage entry (R is implied by presence). */
static unsigned fs_perm(uint64_t e)
{
    return VTD_PERM_R | (e & VTD_FS_RW ? VTD_PERM_W : 0) | (e & VTD_FS_US ? VTD_PERM_U : 0) |
           (e & VTD_FS_XD ? 0 : VTD_PERM_X);
}

/* A first-stage input address: canonical (bits above the width copy its top bit, SDM 4.5). */
static uint64_t fs_canonical(uint64_t va, unsigned levels)
{
    unsigned width = vtd_pt_level_shift(levels) + 9;
    return va & (UINT64_C(1) << (width - 1)) ? va | vtd_bits_above(width) : va;
}

/* Where a first-stage table is in host memory: itself, or (nested) through the second stage. */
static bool fs_table_hpa(struct map_walk *w, uint64_t table, uint64_t *hpa)
{
    if (w->pe->pgtt != VTD_PGTT_NESTED) {
        *hpa = table;
        return true;
    }
    struct vtd_stage_result r;
    struct vtd_fault_info f = {0};
    if (vtd_ss_walk(&w->env, w->pe, table, VTD_ACC_R, &r, &f))
        return false;
    *hpa = r.out & VTD_PAGE_MASK;
    return true;
}

static void fs_enum(struct map_walk *w, uint64_t table, unsigned level, uint64_t base, unsigned perm)
{
    uint64_t ent[VTD_INSP_PT_ENTRIES], hpa;
    if (!fs_table_hpa(w, table, &hpa)) {
        w->st->bad_entries++;
        return;
    }
    unsigned shift = vtd_pt_level_shift(level);
    bool nested = w->pe->pgtt == VTD_PGTT_NESTED;
    /* Nested first-stage addresses are guest-physical: bounded by 52 bits, not the HAW. */
    unsigned aw = nested ? 52 : w->in->caps.haw;
    vtd_insp_read_table(w->in->mem, hpa, ent);
    for (unsigned i = 0; i < VTD_INSP_PT_ENTRIES && !w->rc && !w->st->truncated; i++) {
        uint64_t e = ent[i], start = base + ((uint64_t)i << shift);
        if (!vtd_fs_entry_present(e))
            continue;
        if (e & vtd_fs_entry_rsvd_mask(e, level, &w->in->caps, aw)) {
            w->st->bad_entries++;
            continue;
        }
        unsigned p = perm & fs_perm(e);
        if (!vtd_fs_entry_is_leaf(e, level)) {
            fs_enum(w, vtd_fs_entry_addr(e, level), level - 1, start, p);
            continue;
        }
        uint64_t va = fs_canonical(start, w->pe->fs_levels), pa = vtd_fs_entry_addr(e, level);
        uint64_t size = UINT64_C(1) << shift;
        if (!nested) {
            emit(w, va, pa, size, shift, p);
            continue;
        }
        struct ss_sink s = {.va_minus_gpa = va - pa, .fs_shift = shift, .fs_perm = p, .nested = true};
        ss_enum(w, &s, w->pe->ssptptr, w->pe->ss_levels, 0, pa, pa + (size - 1), VTD_PERM_R | VTD_PERM_W | VTD_PERM_X);
    }
}

int vtd_inspect_mappings(const struct vtd_inspect *in, const struct vtd_pasid_cfg *pe, vtd_insp_range_fn fn,
                         void *arg, struct vtd_insp_map_stats *st)
{
    struct map_walk w = {.in = in, .pe = pe, .fn = fn, .arg = arg, .st = st};
    *st = (struct vtd_insp_map_stats){0};
    vtd_inspect_env(in, &w.env);
    switch (pe->pgtt) {
    case VTD_PGTT_PT:
        emit(&w, 0, 0, UINT64_C(1) << in->caps.haw, VTD_PAGE_SHIFT, VTD_PERM_ALL);
        break;
    case VTD_PGTT_SS: {
        struct ss_sink s = {0};
        uint64_t top = vtd_pt_level_shift(pe->ss_levels) + 9;
        ss_enum(&w, &s, pe->ssptptr, pe->ss_levels, 0, 0, (UINT64_C(1) << top) - 1,
                VTD_PERM_R | VTD_PERM_W | VTD_PERM_X);
        break;
    }
    default: /* first stage, alone or nested */
        fs_enum(&w, pe->fsptptr, pe->fs_levels, 0, VTD_PERM_ALL);
        break;
    }
    flush(&w);
    return w.rc;
}
