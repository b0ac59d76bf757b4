/*
 * walk_ss_memo.c: remembering the upper levels of the nested table fetches' second-stage walks
 * (struct vtd_walk_ss_memo). The four table fetches of a first-stage walk, and those of the
 * next walk, usually translate addresses within the same 2 MiB of guest-physical memory: the
 * same entries at every level above the page table.
 */
#include "walker/ss_entry.h"
#include "walker/walk_internal.h"

uint64_t walk_ss_memo_key(const struct vtd_pasid_cfg *pe)
{
    /* The settings above bit 51: a fetch consults the memo only once SSPTPTR has passed the
     * HAW check, so the pointer has no bits there. Bit 63 keeps the key from 0 (no memo). */
    return pe->ssptptr | (uint64_t)pe->ss_levels << 52 | (uint64_t)pe->ssee << 55 | (uint64_t)pe->ssade << 56 |
           UINT64_C(1) << 63;
}

/* Whether a level-`l` entry passes the walk's tests as a non-leaf entry that needs no A/D
 * update (VT-d 9.8 and 3.7.2), the conditions under which a fetch may skip them. One test of
 * them all: the walk has just passed every one of these entries, so a failure is rare. */
static bool memo_entry_usable(const struct vtd_pasid_cfg *pe, const struct walk_ss_rules *rules, uint64_t e, unsigned l)
{
    bool bad = !(e & rules->present) | ((e & rules->rsvd[l][(e & VTD_SS_PS) != 0]) != 0) |
               vtd_ss_entry_is_leaf(e, l) | (pe->ssade & !(e & VTD_SS_A));
    return !bad;
}

void walk_ss_memo_fill(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, const struct walk_ss_rules *rules,
                       uint64_t key, uint64_t gpa)
{
    struct vtd_walk_ss_memo *m = &env->host.ss_memo;
    m->key = 0;
    uint64_t table = pe->ssptptr, all = ~UINT64_C(0);
    for (unsigned l = pe->ss_levels; l >= 2; l--) {
        uint64_t addr = table + 8 * (uint64_t)vtd_pt_index(gpa, l), e = 0;
        /* The walk read it: only an unbacked frame (all zeros, not present) has none. */
        const uint8_t *frame = vtd_mem_frame_for_read(env->mem, addr);
        if (frame)
            __builtin_memcpy(&e, frame + (addr & ~VTD_PAGE_MASK), 8); /* little-endian host, as mem.c */
        if (!memo_entry_usable(pe, rules, e, l))
            return;
        m->at[l] = frame + (addr & ~VTD_PAGE_MASK);
        m->val[l] = e;
        all &= e;
        table = e & VTD_SS_ADDR;
    }
    m->leaf_frame = vtd_mem_frame_for_read(env->mem, table);
    if (!m->leaf_frame)
        return;
    m->leaf_table = table;
    m->all = all;
    m->region = gpa >> WALK_SS_MEMO_REGION_SHIFT;
    m->key = key;
}
