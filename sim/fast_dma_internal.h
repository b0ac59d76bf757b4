/*
 * fast_dma_internal.h: the whole-request answer of fast_dma.c (its file comment says what it
 * answers and why the answer is the general path's), inline in vtd_iommu_dma: out of line, a
 * request it declines paid a call and a frame for one compare, and a repeat hit paid them too.
 */
#ifndef VTDSIM_SIM_FAST_DMA_INTERNAL_H
#define VTDSIM_SIM_FAST_DMA_INTERNAL_H

#include "sim/iommu_internal.h"
#include "sim/oracle_memo_internal.h"

/* The caches a clean IOTLB hit uses: context, PASID and IOTLB, looked up in that order. */
#define FAST_HIT_USED ((1u << VTD_C_CONTEXT) | (1u << VTD_C_PASID) | (1u << VTD_C_IOTLB))

/* The slot was armed by a clean answer for this very request, in this epoch, and its entries
 * still hold it. */
static inline bool fast_dma_matches(const struct iommu_fast_hit *f, const struct vtd_iommu *io,
                                    const struct vtd_request *req)
{
    return f->ident == iommu_fast_ident(req) && f->key == iommu_fast_key(req) && f->epoch == io->fast_epoch &&
           iommu_fast_entries_hold(f, io);
}

/*
 * Copy n bytes (a multiple of 8, known at compile time) in 16-byte pieces. A plain struct copy or
 * memcpy of these 56-byte blocks is compiled here into a `rep movsl` of 14 words, which costs
 * more than the rest of the hit; the pieces are a few loads and stores.
 */
typedef uint64_t fast_piece __attribute__((vector_size(16), aligned(1), may_alias));
typedef uint64_t fast_word __attribute__((aligned(1), may_alias));
static inline __attribute__((always_inline)) void fast_copy(void *dst, const void *src, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        *(fast_piece *)((char *)dst + i) = *(const fast_piece *)((const char *)src + i);
    for (; i < n; i += 8)
        *(fast_word *)((char *)dst + i) = *(const fast_word *)((const char *)src + i);
}

/*
 * The translation the general path's fast_hit writes (no other field of x): the fields before
 * the stage details as that hit wrote them when it armed the slot (the same entries and the
 * same request identity give the same ones; a cache entry's payload is written once, at its
 * fill), with this request's offset in the page.
 */
_Static_assert(IOMMU_FAST_ANSWER % 8 == 0, "fast_copy moves whole words");
_Static_assert(offsetof(struct vtd_xlate, pe) + sizeof(struct vtd_pasid_cfg) == IOMMU_FAST_ANSWER &&
                   offsetof(struct vtd_xlate, ctx) + sizeof(struct vtd_ctx) == offsetof(struct vtd_xlate, pe),
               "the slot's answer is the head, the context entry and the PASID entry, nothing else");
static inline void fast_dma_answer(const struct iommu_fast_hit *f, const struct vtd_request *req, struct vtd_xlate *x)
{
    fast_copy(x, f->answer, IOMMU_FAST_ANSWER);
    x->out = f->out_page | (req->addr & f->offset_mask);
    x->fs.leaf_level = x->ss.leaf_level = 0;
}

/*
 * The checks vtd_iommu_dma runs after the translation, when they would find nothing to do: the
 * output is not in the interrupt range, no CPU-cache line is dirty, and the oracle is off or its
 * memo vouches for this answer (the last check: it counts a memo hit). The interrupt range is
 * one aligned MiB (0xFEEx_xxxx, VT-d 3.14): a 4 KiB page lies wholly inside or outside it, so
 * for a 4 KiB page the clean answer that armed the slot has settled it.
 */
_Static_assert((VTD_INTR_ADDR_FIRST & 0xFFFFF) == 0 && VTD_INTR_ADDR_LAST - VTD_INTR_ADDR_FIRST == 0xFFFFF,
               "the interrupt range is one aligned MiB");
static inline bool fast_dma_nothing_to_report(struct vtd_iommu *io, const struct iommu_fast_hit *f,
                                       const struct vtd_request *req, const struct vtd_dma_result *res)
{
    if ((f->iotlb_shift != VTD_PAGE_SHIFT && vtd_xlate_out_blocked(req, res->x.out)) || vtd_mem_cpu_dirty(io->mem))
        return false;
    if (!io->cfg.oracle)
        return true;
    /* The slot matched: its identity is the request's. */
    return io->cfg.oracle_memo && iommu_oracle_memo_clean(io, req, f->ident, iommu_page_hash(req, f->ident), res, true);
}

/* The lookups the general path makes, in its order, and the request's counters. The entries
 * are not made anyone's remembered last entry (the caches' and the context/PASID look-ups'):
 * those are hints, each checked before use, and a repeat needs none of them. */
static inline void fast_dma_commit(struct vtd_iommu *io, const struct iommu_fast_hit *f, struct vtd_dma_result *res)
{
    vtd_cache_count_hit(io->cache[VTD_C_CONTEXT], f->ctx, f->ctx_slot);
    vtd_cache_count_hit(io->cache[VTD_C_PASID], f->pasid_entry, f->pasid_slot);
    vtd_cache_count_hit(io->cache[VTD_C_IOTLB], f->iotlb, f->iotlb_slot);
    io->fast_dma_hits++;
    iommu_result_clean(res, FAST_HIT_USED, VTD_SRC_IOTLB, 0, 0);
    io->stats.requests++;
    io->stats.reads_hist[0]++;
}

/*
 * A whole request answered from the fast path's memo, for a requester without a device TLB: a
 * request answered cleanly before with the same access, whose three entries still hold, gets
 * the result, counters and replacement updates vtd_iommu_dma would give it. False, with nothing
 * but *res touched, for anything else (and with the oracle on, unless its memo finds the answer
 * clean). Only an untranslated request can match (the fast path arms nothing else, and nothing
 * at all without cfg.fast_path). A requester with a device TLB takes the general path, which
 * asks its device TLB first: no slot is armed for it, and adding such a device moves the epoch,
 * which disarms a slot armed for its source-id before.
 */
static inline bool iommu_fast_dma(struct vtd_iommu *io, const struct iommu_fast_hit *f, const struct vtd_request *req,
                                  struct vtd_dma_result *res)
{
    if (req->kind != VTD_REQ_UNTRANSLATED)
        return false;
    if (!fast_dma_matches(f, io, req))
        return false;
    fast_dma_answer(f, req, &res->x);
    if (!fast_dma_nothing_to_report(io, f, req, res))
        return false;
    fast_dma_commit(io, f, res);
    return true;
}

#endif
