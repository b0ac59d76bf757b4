/*
 * dma_twins.h: the comparisons of the differential tests that run two IOMMUs identical but for
 * one speed-up (test_fastpath: the IOTLB-hit fast path; test_oracle_memo: the oracle's memo).
 * A speed-up may change nothing a user sees: the answer, the stale and lost-A/D reports, the
 * counters of the IOMMU and of every cache.
 */
#ifndef VTDSIM_TESTS_DMA_TWINS_H
#define VTDSIM_TESTS_DMA_TWINS_H

#include <criterion/criterion.h>
#include <string.h>

#include "sim/iommu.h"

static inline void twins_expect_same_result(int rc0, const struct vtd_dma_result *a, int rc1,
                                            const struct vtd_dma_result *b, unsigned op)
{
    cr_assert_eq(rc0, rc1, "op %u: rc %#x vs %#x", op, rc0, rc1);
    cr_assert_eq(a->x.fault.code, b->x.fault.code, "op %u", op);
    cr_assert_eq(a->x.fault.addr, b->x.fault.addr, "op %u", op);
    cr_assert_eq(a->x.fault.suppressed, b->x.fault.suppressed, "op %u", op);
    cr_assert_eq(a->x.out, b->x.out, "op %u: out %#llx vs %#llx", op, (unsigned long long)a->x.out,
                 (unsigned long long)b->x.out);
    cr_assert_eq(a->x.page_shift, b->x.page_shift, "op %u", op);
    cr_assert_eq(a->x.perm, b->x.perm, "op %u", op);
    cr_assert_eq(a->x.dirty, b->x.dirty, "op %u", op);
    cr_assert_eq(a->x.did, b->x.did, "op %u", op);
    cr_assert_eq(a->x.pasid, b->x.pasid, "op %u", op);
    cr_assert_eq(a->x.pgtt, b->x.pgtt, "op %u", op);
    cr_assert_eq(a->x.priv, b->x.priv, "op %u", op);
    cr_assert_eq(a->x.ctx.pdtp, b->x.ctx.pdtp, "op %u", op);
    cr_assert_eq(a->x.ctx.rid_pasid, b->x.ctx.rid_pasid, "op %u", op);
    cr_assert_eq(a->x.pe.did, b->x.pe.did, "op %u", op);
    cr_assert_eq(a->x.pe.fsptptr, b->x.pe.fsptptr, "op %u", op);
    cr_assert_eq(a->x.pe.ssptptr, b->x.pe.ssptptr, "op %u", op);
    cr_assert_eq(a->source, b->source, "op %u", op);
    cr_assert_eq(a->used, b->used, "op %u: used %#x vs %#x", op, a->used, b->used);
    cr_assert_eq(a->reads, b->reads, "op %u", op);
    cr_assert_eq(a->stale, b->stale, "op %u: stale %d vs %d", op, a->stale, b->stale);
    if (a->stale) {
        cr_assert_eq(a->report.caches, b->report.caches, "op %u", op);
        cr_assert_eq(a->report.filled_step, b->report.filled_step, "op %u", op);
        cr_assert_str_eq(a->report.fix, b->report.fix, "op %u", op);
        cr_assert_eq(a->report.fresh.fault.code, b->report.fresh.fault.code, "op %u", op);
        cr_assert_eq(a->report.fresh.out, b->report.fresh.out, "op %u", op);
    }
    cr_assert_eq(a->lost.dirty, b->lost.dirty, "op %u", op);
    cr_assert_eq(a->lost.accessed, b->lost.accessed, "op %u", op);
    if (a->lost.dirty || a->lost.accessed)
        cr_assert_str_eq(a->lost.text, b->lost.text, "op %u", op);
}

static inline void twins_expect_same_counters(struct vtd_iommu *io0, struct vtd_iommu *io1, unsigned op)
{
    const struct vtd_iommu_stats *s0 = vtd_iommu_stats(io0), *s1 = vtd_iommu_stats(io1);
    cr_assert_eq(memcmp(s0, s1, sizeof(*s0)), 0, "op %u: IOMMU statistics differ", op);
    for (unsigned id = 0; id < VTD_C_NCACHES; id++) {
        const struct vtd_cache_stats *c0 = vtd_cache_stats(vtd_iommu_cache(io0, id));
        const struct vtd_cache_stats *c1 = vtd_cache_stats(vtd_iommu_cache(io1, id));
        cr_assert_eq(memcmp(c0, c1, sizeof(*c0)), 0, "op %u: %s statistics differ", op,
                     vtd_cache_name(vtd_iommu_cache(io0, id)));
    }
}

#endif
