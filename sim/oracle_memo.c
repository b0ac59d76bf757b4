/*
 * oracle_memo.c: the oracle's memo. The oracle's fresh walk is a function of the request, the
 * capabilities (fixed for an instance), RTADDR, TE and the contents of simulated memory, and
 * nothing else: it uses no cache and writes nothing. Simulated memory's generation
 * (walker/mem.h) changes with anything that may change what a read returns, so while it, RTADDR
 * and TE are as they were when a request was checked, a fresh walk of the same request would
 * give the same answer. An answer served now that equals that answer is therefore not stale,
 * and the lost-A/D check, which reads the same memory, would find what it found then: nothing.
 * Any other answer, or anything changed, runs the full checks, so every stale case is reported
 * as before (tests/test_oracle_memo.c compares the two on random traffic).
 */
#include "sim/oracle_memo_internal.h"

void iommu_oracle_memo_note(struct vtd_iommu *io, const struct vtd_request *req, const struct vtd_dma_result *res,
                            bool ad_checked)
{
    /* Only a clean check is worth remembering: a stale or lost-bit answer is reported in full
     * every time. */
    if (res->stale || res->lost.dirty || res->lost.accessed)
        return;
    uint64_t ident = iommu_fast_ident(req);
    *iommu_oracle_memo_slot(io, iommu_page_hash(req, ident)) = (struct oracle_memo_slot){
        .mem_generation = vtd_mem_generation(io->mem), .rtaddr = io->rtaddr, .addr = req->addr,
        .ident = ident, .how = oracle_memo_how(req, io->te), .out = res->x.out,
        .code = res->x.fault.code, .page_shift = (uint8_t)res->x.page_shift, .perm = (uint8_t)res->x.perm,
        .ad_checked = ad_checked};
}

uint64_t vtd_iommu_oracle_memo_hits(const struct vtd_iommu *io) { return io->memo_hits; }
