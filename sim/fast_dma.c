/*
 * fast_dma.c: a whole DMA request answered from the fast path's memo (xlate.c), for the case
 * that dominates a hot IOTLB: the same requester, page and access as a clean answer made
 * before, its context-cache, PASID-cache and IOTLB entries still holding the same fills.
 *
 * The answer, the statistics and the replacement updates are those vtd_iommu_dma gives through
 * the general path (its fast_hit, then the oracle's memo and the request counters); what this
 * skips is that path's per-request set-up: the request record the cache hooks fill, the walk
 * counters' reset, the result's source computed from the caches used, the request checks and
 * the IOTLB entry's permission rules (their verdict for this access was remembered). Everything
 * that could make the answer differ is checked before any state changes, so a request that does
 * not qualify goes down the general path as if this did not exist.
 */
#include "sim/fast_dma_internal.h"

void iommu_fast_dma_arm(struct vtd_iommu *io, struct iommu_fast_hit *f, const struct vtd_request *req,
                        const struct vtd_xlate *x)
{
    /* The fast path has checked translation on, no trace and the root table. */
    if (req->access > FAST_KEY_ACCESS_MASK)
        return;
    f->ident = iommu_fast_ident(req);
    f->key = iommu_fast_key(req);
    f->epoch = io->fast_epoch;
    f->cache_changes = io->cache_changes;
    f->ctx_slot = f->ctx->slot;
    f->pasid_slot = f->pasid_entry->slot;
    f->iotlb_slot = f->iotlb->slot;
    f->offset_mask = (UINT64_C(1) << f->iotlb_shift) - 1;
    f->out_page = x->out & ~f->offset_mask;
    memcpy(f->answer, x, IOMMU_FAST_HEAD);
    memcpy(f->answer + offsetof(struct vtd_xlate, ctx), &((const struct ctx_cache_payload *)f->ctx->payload)->ctx,
           sizeof x->ctx);
    memcpy(f->answer + offsetof(struct vtd_xlate, pe), &((const struct pasid_cache_payload *)f->pasid_entry->payload)->pe,
           sizeof x->pe);
}
