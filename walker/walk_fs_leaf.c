/*
 * walk_fs_leaf.c: the last step of a first-stage walk that a paging-structure cache resumed at
 * the page table (level 1): the one PTE read, checked as walk_fs.c checks it. A cache model
 * asks it first and falls back to the whole walk when it declines: it answers only what needs
 * no fault, no A/D write and no trace record, so declining leaves nothing to undo.
 */
#include "walker/fs_entry.h"
#include "walker/walk_fs_leaf.h"
#include "walker/walk_internal.h"

/* Permissions one first-stage entry grants (presence implies read; VT-d 3.6.2). */
static unsigned leaf_entry_perm(uint64_t e)
{
    return VTD_PERM_R | ((e & VTD_FS_RW) ? VTD_PERM_W : 0) | ((e & VTD_FS_US) ? VTD_PERM_U : 0) |
           ((e & VTD_FS_XD) ? 0 : VTD_PERM_X);
}

/* A first-stage input address must be canonical for the paging mode's width (4 or 5 levels). */
static bool leaf_va_canonical(const struct vtd_pasid_cfg *pe, uint64_t va)
{
    unsigned sh = 64 - (pe->fs_levels == 5 ? 57 : 48);
    return (uint64_t)(((int64_t)(va << sh)) >> sh) == va;
}

/*
 * Whether the whole walk would write an A/D bit: with the walk resumed below the cache entry,
 * the PTE is the only entry it reads, so it alone must hold A (and EA with EAFE), and D for a
 * write that is granted (VT-d 3.6.3; walk_fs.c's fs_ad_update_needed with one entry). A
 * translation granting no read marks nothing.
 */
static bool leaf_needs_ad(const struct vtd_pasid_cfg *pe, uint64_t e, unsigned perm, bool write)
{
    if (!(perm & VTD_PERM_R))
        return false;
    uint64_t a_bits = VTD_FS_A | (pe->eafe ? VTD_FS_EA : 0);
    return (e & a_bits) != a_bits || (write && !(e & VTD_FS_D));
}

/* The walker preconditions: a host-addressed first stage on the lean path, resumed at level 1. */
static bool leaf_resumable(const struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe,
                           const struct vtd_walk_start *start, uint64_t va)
{
    return pe->pgtt == VTD_PGTT_FS && start->level == 1 && !(start->table & ~VTD_PAGE_MASK) &&
           walk_is_lean(env) && leaf_va_canonical(pe, va);
}

int vtd_fs_leaf_peek(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, const struct vtd_walk_start *start,
                     uint64_t va, unsigned access, bool priv, struct vtd_stage_result *out)
{
    if (!leaf_resumable(env, pe, start, va))
        return -1;
    uint64_t off = 8 * (uint64_t)vtd_pt_index(va, 1), e;
    if (walk_read64_lean_in(env, VTD_TR_FS, 1, start->table, off, &e) || !vtd_fs_entry_present(e) ||
        (e & walk_masks(env)->fs_host[1][(e & VTD_FS_PS) != 0]))
        return -1;
    unsigned raw = start->perm & leaf_entry_perm(e);
    if (vtd_fs_access_fault(env->caps, pe, raw, access, priv))
        return -1;
    unsigned perm = vtd_fs_effective_perm(pe, raw, priv);
    if (leaf_needs_ad(pe, e, perm, (access & VTD_ACC_W) && (perm & VTD_PERM_W)))
        return -1;
    out->top_level = pe->fs_levels;
    out->leaf_level = 1;
    out->page_shift = VTD_PAGE_SHIFT;
    out->table[1] = start->table;
    out->perm_above[1] = start->perm;
    out->out = (e & VTD_FS_ADDR) | (va & ~VTD_PAGE_MASK);
    out->leaf_entry_addr = start->table + off;
    out->raw_perm = raw;
    out->perm = perm;
    out->dirty = (e & VTD_FS_D) != 0;
    return 0;
}

void vtd_fs_leaf_commit(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe)
{
    env->paging_pwsnp = pe->pwsnp;
    walk_count_paging(env, VTD_TR_FS, 1);
}
