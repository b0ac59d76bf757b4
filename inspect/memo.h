/*
 * memo.h: the context and PASID entries a series of walks has fetched, remembered for the next
 * walks of the same inspection. Sound because inspection never writes: the image and the
 * registers cannot change under it, so a remembered fetch (its decoding, or its fault) is what
 * fetching again would return. The first-stage walks also start at the leaf table a previous walk
 * of the same 2 MiB region found (a paging-structure cache, VT-d 6.2.3.2, that never needs
 * invalidating): only the leaf entry is read again.
 */
#ifndef VTDSIM_INSPECT_MEMO_H
#define VTDSIM_INSPECT_MEMO_H

#include <stdbool.h>
#include <stdint.h>

#include "walker/walk.h"

#define VTD_INSP_MEMO_SLOTS 64u
/* Leaf tables remembered: 8192 cover 16 GiB of 4 KiB pages, 192 KiB of memo. */
#define VTD_INSP_MEMO_TABLES 8192u

struct vtd_insp_memo {
    struct vtd_walk_hooks hooks;
    struct vtd_insp_memo_ctx {
        bool valid;
        uint16_t sid;
        int rc;
        struct vtd_ctx ctx;
        struct vtd_fault_info f;
    } ctx[VTD_INSP_MEMO_SLOTS];
    struct vtd_insp_memo_pasid {
        bool valid;
        uint64_t pdtp;
        unsigned pdts;
        uint32_t pasid;
        int rc;
        struct vtd_pasid_cfg cfg;
        struct vtd_fault_info f;
    } pasid[VTD_INSP_MEMO_SLOTS];
    struct vtd_insp_memo_table {
        uint64_t region_plus1; /* va >> 21, + 1; 0: empty */
        uint64_t fsptptr;      /* the walk's root table ... */
        unsigned levels;       /* ... its depth ... */
        bool pwsnp, eafe;      /* ... and the A bits it needs (VT-d 3.6.2) */
        unsigned perm;         /* permissions the entries above grant */
        uint64_t table;        /* the leaf table (guest-physical when nested) */
    } table[VTD_INSP_MEMO_TABLES];
};

/* Empty the memo and make `env` (a dry-run inspection environment) fetch through it. */
void vtd_insp_memo_attach(struct vtd_insp_memo *m, struct vtd_walk_env *env);

#endif
