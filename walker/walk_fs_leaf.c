/*
 * walk_fs_leaf.c: the last step of a first-stage walk that a paging-structure cache resumed at
 * the page table (level 1): the one PTE read, checked as walk_fs.c checks it. A cache model
 * asks it first and falls back to the whole walk when it declines: it answers only what needs
 * no fault, no A/D write and no trace record, so declining leaves nothing to undo.
 */
#include "walker/fs_entry.h"
#include "walker/walk_fs_leaf.h"
#include "walker/walk_fs_rules.h"
#include "walker/walk_internal.h"

/* The walker preconditions: a host-addressed first stage on the lean path, resumed at level 1. */
static bool leaf_resumable(const struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe,
                           const struct vtd_walk_start *start, uint64_t va)
{
    return pe->pgtt == VTD_PGTT_FS && start->level == 1 && !(start->table & ~VTD_PAGE_MASK) &&
           walk_is_lean(env) && fs_canonical(va, fs_width(pe));
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
    unsigned raw = start->perm & fs_entry_perm(e);
    if (vtd_fs_access_fault(env->caps, pe, raw, access, priv))
        return -1;
    unsigned perm = vtd_fs_effective_perm(pe, raw, priv);
    /* With the walk resumed below the cache entry the PTE is the only entry read; a
     * translation granting no read marks nothing (as in walk_fs.c). */
    if ((perm & VTD_PERM_R) && fs_ad_update_needed(pe, e, e, (access & VTD_ACC_W) && (perm & VTD_PERM_W)))
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
