/*
 * memo.h: the context and PASID entries a series of walks has fetched, remembered for the next
 * walks of the same inspection. Sound because inspection never writes: the image and the
 * registers cannot change under it, so a remembered fetch (its decoding, or its fault) is what
 * fetching again would return. The paging structures are still walked on every request.
 */
#ifndef VTDSIM_INSPECT_MEMO_H
#define VTDSIM_INSPECT_MEMO_H

#include <stdbool.h>
#include <stdint.h>

#include "walker/walk.h"

#define VTD_INSP_MEMO_SLOTS 64u

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
};

/* Empty the memo and make `env` (a dry-run inspection environment) fetch through it. */
void vtd_insp_memo_attach(struct vtd_insp_memo *m, struct vtd_walk_env *env);

#endif
