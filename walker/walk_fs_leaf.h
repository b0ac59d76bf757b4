/*
 * walk_fs_leaf.h: a first-stage walk resumed at its page table by a paging-structure cache,
 * answered without the general walk when nothing but one PTE read is needed (walk_fs_leaf.c).
 */
#ifndef VTDSIM_WALKER_WALK_FS_LEAF_H
#define VTDSIM_WALKER_WALK_FS_LEAF_H

#include "walker/walk.h"

/*
 * What vtd_fs_walk_from(env, pe, start, va, access, priv, VTD_REQ_UNTRANSLATED, out, f) gives
 * for a walk starting at level 1 (`start` from a cache entry at level 2): 0 with *out filled as
 * it fills it, when the walk would succeed reading only that PTE and writing no A/D bit. -1
 * (declined) for anything else: a PASID entry other than first-stage-only, another start level,
 * a trace, abort ranges or dirty CPU lines (the walk is not lean), a non-canonical input, a
 * read error, a non-present or reserved PTE, a permission fault, an A or D bit to set. It
 * counts nothing and writes nothing in memory: after a 0 the caller calls vtd_fs_leaf_commit().
 */
int vtd_fs_leaf_peek(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, const struct vtd_walk_start *start,
                     uint64_t va, unsigned access, bool priv, struct vtd_stage_result *out);
/* The walk's own side effects on the environment for the read vtd_fs_leaf_peek() made. */
void vtd_fs_leaf_commit(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe);

#endif
