/*
 * oracle_memo_internal.h: the oracle memo's check (oracle_memo.c describes the memo), inline
 * because two hot paths ask it of every cache-served answer with the oracle on: vtd_iommu_dma's
 * general path (xlate.c) and the whole-request path (fast_dma.c). As one out-of-line function
 * called from both, the link-time optimiser stopped inlining it into the general path, and a
 * device-TLB hit with the oracle on paid about 20 instructions for the call. Not installed: it
 * reads the IOMMU's internals.
 */
#ifndef VTDSIM_SIM_ORACLE_MEMO_INTERNAL_H
#define VTDSIM_SIM_ORACLE_MEMO_INTERNAL_H

#include "sim/iommu_internal.h"

/* The slot of a request: the high bits of its page hash (iommu_page_hash), which the fast-path
 * slot's look-up has already computed. */
_Static_assert(ORACLE_MEMO_SLOTS == 1 << 9, "iommu_oracle_memo_slot takes 9 bits");
static inline struct oracle_memo_slot *iommu_oracle_memo_slot(struct vtd_iommu *io, uint64_t page_hash)
{
    return &io->memo[page_hash >> 55];
}

/* A request's access and kind with TE, in one word that is never 0 (0 marks an unused slot). */
#define ORACLE_MEMO_USED (UINT64_C(1) << 63)
static inline uint64_t oracle_memo_how(const struct vtd_request *req, bool te)
{
    return req->access | (uint64_t)req->kind << 32 | (uint64_t)te << 40 | ORACLE_MEMO_USED;
}

/* Whether the slot holds this very request, checked against the state it still depends on. */
static inline bool oracle_memo_holds(const struct oracle_memo_slot *m, const struct vtd_iommu *io,
                                     const struct vtd_request *req, uint64_t ident)
{
    return m->how == oracle_memo_how(req, io->te) && m->ident == ident && m->addr == req->addr &&
           m->mem_generation == vtd_mem_generation(io->mem) && m->rtaddr == io->rtaddr;
}

/* The oracle's own comparison (oracle.c, results_differ) against the remembered answer. */
static inline bool oracle_memo_same_answer(const struct oracle_memo_slot *m, const struct vtd_xlate *x)
{
    if (x->fault.code != m->code)
        return false;
    return m->code || (x->out == m->out && x->page_shift == m->page_shift && x->perm == m->perm);
}

/* `ident` and `page_hash` are the request's (iommu_fast_ident, iommu_page_hash), as its caller
 * has them already. */
static inline bool iommu_oracle_memo_clean(struct vtd_iommu *io, const struct vtd_request *req, uint64_t ident,
                                           uint64_t page_hash, const struct vtd_dma_result *res, bool ad_needed)
{
    const struct oracle_memo_slot *m = iommu_oracle_memo_slot(io, page_hash);
    if (!oracle_memo_holds(m, io, req, ident) || !oracle_memo_same_answer(m, &res->x) || (ad_needed && !m->ad_checked))
        return false;
    io->memo_hits++;
    return true;
}

#endif
