/*
 * mappings.h: every mapping of one address space (a PASID entry's tables), merged into ranges:
 * runs of leaves whose input and output are both contiguous, with the same page size and the
 * same permissions. The page tables are walked once, table by table (not address by address),
 * as Linux's domain_translation_struct debugfs file does.
 */
#ifndef VTDSIM_INSPECT_MAPPINGS_H
#define VTDSIM_INSPECT_MAPPINGS_H

#include <stdint.h>

#include "inspect/inspect.h"
#include "walker/pasid_entry.h"

/* [iova, iova+size) -> [out, out+size), in pages of 2^page_shift bytes, VTD_PERM_* granted. */
struct vtd_insp_range {
    uint64_t iova, out, size;
    unsigned page_shift, perm;
};

struct vtd_insp_map_stats {
    uint64_t leaves;       /* leaf entries (nested: pieces of first-stage leaves over second-stage ones) */
    uint64_t ranges;       /* ranges reported */
    uint64_t bad_entries;  /* present entries skipped: reserved bits set, or (nested) a table the
                            * second stage does not map; `check` names each */
    bool truncated;        /* stopped at the leaf limit */
};

/* Leaves one enumeration reports at most (1 TiB of 4 KiB pages): tables that point back at
 * each other can make 2^36 leaves of one 4-level space, which nothing would finish printing. */
#define VTD_INSP_MAX_LEAVES (UINT64_C(1) << 28)

typedef int (*vtd_insp_range_fn)(void *arg, const struct vtd_insp_range *r);

/*
 * Report the mappings of the address space `pe` describes, in increasing input address order.
 * First stage: permissions are those the entries grant (R, W if every level allows writes, U
 * if every level allows user access, X unless a level sets XD). Second stage: R, W, X as the
 * entries grant them (X implied without SSEE), and U. Nested: the first stage's ranges through
 * the second stage (both sets of permissions, the smaller page). Pass-through: one range, the
 * identity over the host address width. Past in->max_leaves (default VTD_INSP_MAX_LEAVES)
 * leaves the walk stops with st->truncated set. Returns 0 or the callback's nonzero value.
 */
int vtd_inspect_mappings(const struct vtd_inspect *in, const struct vtd_pasid_cfg *pe, vtd_insp_range_fn fn,
                         void *arg, struct vtd_insp_map_stats *st);

#endif
