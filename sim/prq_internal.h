/*
 * prq_internal.h: what the other sim/ files ask of prq.c (the translation path's page requests,
 * queued invalidation's page group responses, the registers' side effects). Not a public interface.
 */
#ifndef VTDSIM_SIM_PRQ_INTERNAL_H
#define VTDSIM_SIM_PRQ_INTERNAL_H

#include "sim/iommu_internal.h"
#include "sim/prq.h"

/* A device's PRI state (allocated on its first page request): 512 group indices, two bitmaps. */
struct pri_state {
    uint64_t open[8];    /* pages sent, the last not yet */
    uint64_t waiting[8]; /* last page sent: waiting for the response */
    bool rf, uprgi;
    unsigned next;       /* where the device looks for a free index for its next one-page group */
    uint64_t success, invalid, failure, unexpected;
};

/*
 * The translation path: an ATS completion granted too little to a PRI device whose context
 * allows page requests; the device asks for the page as a one-page group. 0 when the request
 * went out (whatever the IOMMU then did with it); negative when the device could not send one
 * (no PRS, PRI stopped, every group index in use, no memory): it falls back.
 */
int iommu_pri_request_page(struct vtd_iommu *io, struct vtd_device *d, const struct vtd_request *req);

/* A page group response reaches device `rid` (from a descriptor, or the IOMMU's own). */
void iommu_pri_response(struct vtd_iommu *io, uint16_t rid, unsigned prgi, unsigned rc);

/* Register side effects: PRS after software wrote it, PECTL when IM was cleared with IP set. */
void iommu_prs_written(struct vtd_iommu *io);
void iommu_prq_message(struct vtd_iommu *io);

/* A device's PRI state goes (device freed, IOMMU reset). */
void iommu_pri_free(struct vtd_device *d);

#endif
