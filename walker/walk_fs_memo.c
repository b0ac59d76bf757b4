/*
 * walk_fs_memo.c: remembering the upper levels of the nested first-stage walk (struct
 * vtd_walk_fs_memo): the first-stage entries above the page table and the second-stage entries
 * their table fetches read. Walks of addresses within the same 2 MiB, one after the other,
 * read the same ones; a walk that finds them unchanged goes on at level 1 (walk_fs.c). Walks
 * within the same 1 GiB read the same ones above level 2, and go on at level 2.
 */
#include "walker/fs_entry.h"
#include "walker/ss_entry.h"
#include "walker/walk_fs_rules.h"
#include "walker/walk_internal.h"

uint64_t walk_fs_memo_key(const struct vtd_pasid_cfg *pe, uint64_t ss_key)
{
    /* Above the second-stage key's settings (bits 52-56 and 63, walk_ss_memo.c): the depth and
     * EAFE, which decides the A bits the entries need. */
    return ss_key | (uint64_t)pe->fs_levels << 57 | (uint64_t)pe->eafe << 60;
}

/* The 8-byte entry at `addr` through memory's frames (0 when none holds it: not present at
 * any level), and where its bytes lie. */
static const uint8_t *memo_entry(struct vtd_walk_env *env, uint64_t addr, uint64_t *e)
{
    const uint8_t *frame = vtd_mem_frame_for_read(env->mem, addr);
    *e = 0;
    if (!frame | ((addr & 7) != 0)) /* a misaligned entry could straddle the frame's end */
        return NULL;
    const uint8_t *at = frame + (addr & ~VTD_PAGE_MASK);
    __builtin_memcpy(e, at, 8); /* little-endian host, as mem.c */
    return at;
}

/* Room for every entry a walk reads above level 1: 4 first-stage levels, 5 fetch reads each. */
_Static_assert(VTD_WALK_FS_MEMO_READS >= (VTD_PT_MAX_LEVELS - 1) * (VTD_PT_MAX_LEVELS + 1), "memo size");

/* Append an entry to the memo. */
static void memo_keep(struct vtd_walk_fs_memo *m, const uint8_t *at, uint64_t e)
{
    m->at[m->n] = at;
    m->val[m->n++] = e;
}

/*
 * The table fetch of `gpa` as walk_ss_table_fetch_lean() makes it, its entries appended to the
 * memo: its host address, or false when an entry would fault or need an A update (VT-d 3.8,
 * 9.8 and 3.7.2). Each test is one of all its conditions: the walk has just passed them.
 */
static bool memo_fetch(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, const struct walk_ss_nest *nest,
                       struct vtd_walk_fs_memo *m, uint64_t gpa, uint64_t *hpa)
{
    if (((gpa & (nest->beyond_mgaw | nest->beyond_agaw)) != 0) | nest->ptr_beyond_haw)
        return false;
    uint64_t table = pe->ssptptr, all = ~UINT64_C(0);
    for (unsigned l = pe->ss_levels; l >= 1; l--) {
        uint64_t e;
        const uint8_t *at = memo_entry(env, table + 8 * (uint64_t)vtd_pt_index(gpa, l), &e);
        bool bad = !(e & nest->rules.present) | ((e & nest->rules.rsvd[l][(e & VTD_SS_PS) != 0]) != 0) |
                   (pe->ssade & !(e & VTD_SS_A));
        if (bad)
            return false;
        memo_keep(m, at, e);
        m->ss_reads++;
        all &= e;
        if (vtd_ss_entry_is_leaf(e, l)) {
            *hpa = vtd_ss_entry_addr(e, l) | (gpa & ((UINT64_C(1) << vtd_pt_level_shift(l)) - 1));
            return (all & VTD_SS_R) != 0; /* the fetch needs read permission */
        }
        table = e & VTD_SS_ADDR;
    }
    return false; /* no levels (level 1 is always a leaf) */
}

void walk_fs_memo_fill(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, const struct vtd_walk_masks *masks,
                       const struct walk_ss_nest *nest, uint64_t key, uint64_t va)
{
    struct vtd_walk_fs_memo *m = &env->host.fs_memo;
    uint64_t region = va >> WALK_SS_MEMO_REGION_SHIFT;
    m->key = m->ss_key = 0;
    m->n = m->fs_reads = m->ss_reads = 0;
    const uint64_t a_bits = fs_a_bits(pe);
    uint64_t table = pe->fsptptr, all = ~UINT64_C(0);
    unsigned perm = VTD_PERM_ALL;
    for (unsigned l = pe->fs_levels; l >= 2; l--) {
        m->table[l] = table;
        m->perm_above[l] = perm;
        uint64_t hpa, e;
        if (!memo_fetch(env, pe, nest, m, table + 8 * (uint64_t)vtd_pt_index(va, l), &hpa))
            return;
        const uint8_t *at = memo_entry(env, hpa, &e);
        /* One branch for the four tests (the walk has just passed them); int, not bool, so that
         * clang does not read the `|` as a mistaken `||`. */
        int bad = !vtd_fs_entry_present(e) | ((e & masks->fs_nested[l][(e & VTD_FS_PS) != 0]) != 0) |
                  (int)vtd_fs_entry_is_leaf(e, l) | ((e & a_bits) != a_bits);
        if (bad)
            return;
        memo_keep(m, at, e);
        m->fs_reads++;
        all &= e;
        perm &= fs_entry_perm(e);
        table = e & VTD_FS_ADDR;
        if (l == 3) {
            /* What the levels above level 2, the same for the whole 1 GiB, leave. */
            m->n_gib = m->n;
            m->fs_reads_gib = m->fs_reads;
            m->ss_reads_gib = m->ss_reads;
            m->all_gib = all;
        }
    }
    m->leaf_table = table;
    m->perm = perm;
    m->all = all;
    m->region = region;
    m->key = pe->fsptptr;
    m->ss_key = key;
}
