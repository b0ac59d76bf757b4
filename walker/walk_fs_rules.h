/*
 * walk_fs_rules.h: the first-stage rules that both the whole walk (walk_fs.c) and its last step
 * resumed from a paging-structure cache (walk_fs_leaf.c) apply, so that the two cannot drift
 * apart. Private to walker/.
 */
#ifndef VTDSIM_WALKER_WALK_FS_RULES_H
#define VTDSIM_WALKER_WALK_FS_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "walker/fs_entry.h"
#include "walker/pasid_entry.h"
#include "walker/walk.h"

/* The input address width of the paging mode: 4 or 5 levels (FSPM). */
static inline unsigned fs_width(const struct vtd_pasid_cfg *pe) { return pe->fs_levels == 5 ? 57 : 48; }

/* A first-stage input address must be canonical for that width (VT-d 3.6). */
static inline bool fs_canonical(uint64_t va, unsigned width)
{
    unsigned sh = 64 - width;
    return (uint64_t)(((int64_t)(va << sh)) >> sh) == va;
}

/* Permissions one first-stage entry grants (presence implies read; VT-d 3.6.2). */
static inline unsigned fs_entry_perm(uint64_t e)
{
    return VTD_PERM_R | ((e & VTD_FS_RW) ? VTD_PERM_W : 0) | ((e & VTD_FS_US) ? VTD_PERM_U : 0) |
           ((e & VTD_FS_XD) ? 0 : VTD_PERM_X);
}

/* The A (and EA with EAFE) bits every entry used must hold (VT-d 3.6.3). */
static inline uint64_t fs_a_bits(const struct vtd_pasid_cfg *pe) { return VTD_FS_A | (pe->eafe ? VTD_FS_EA : 0); }

/* Whether a walk must write an A/D bit: `all` is the AND of the entries used, `leaf` the leaf
 * entry, `write` a write the translation grants (VT-d 3.6.3). */
static inline bool fs_ad_update_needed(const struct vtd_pasid_cfg *pe, uint64_t all, uint64_t leaf, bool write)
{
    uint64_t a_bits = fs_a_bits(pe);
    return (all & a_bits) != a_bits || (write && !(leaf & VTD_FS_D));
}

#endif
