/*
 * test_fast_dma.c: the whole-request fast path (sim/fast_dma.c) changes speed, nothing else.
 * Two IOMMUs, identical but for cfg.fast_path, replay the same random requests (with and without
 * PASID, reads, writes and execute requests, 4 KiB and 2 MiB pages, a device with a device TLB),
 * table edits without invalidation and invalidations, with the oracle off and on: every answer,
 * stale report and counter must be the same, and the whole-request path must have answered many
 * of them. Then what it assumes unchanged since a slot was armed: translation switched off, a
 * trace attached, a different access.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "sim/iommu_internal.h"
#include "sim/qi_desc.h"
#include "sim/regs.h"
#include "dma_twins.h"

#define SID_A vtd_sid(0, 3, 0)
#define SID_ATS vtd_sid(0, 4, 0)
#define PASID 1
#define NPAGES 16
#define BIG_VA UINT64_C(0x40000000) /* one 2 MiB page */

static struct twin_side sides[2]; /* [0]: fast path on, [1]: off */
static uint64_t rng;

static uint64_t next_rand(void) { return twins_rand(&rng); }

static void side_init(struct twin_side *s, bool fast, bool oracle)
{
    struct vtd_iommu_config c;
    vtd_iommu_config_default(&c);
    c.fast_path = fast;
    c.oracle = oracle;
    twins_two_devices_init(s, &c, SID_A, SID_ATS, PASID);
    for (int d = 0; d < 2; d++) {
        for (unsigned i = 0; i < NPAGES; i++) {
            /* Read-only or writable, without A/D on every third page (writes re-walk to set D). */
            unsigned perm = VTD_PERM_R | VTD_PERM_U | (i % 2 ? VTD_PERM_W : 0) | (i % 4 == 3 ? VTD_PERM_X : 0);
            unsigned flags = i % 3 ? VTD_MAP_AD : 0;
            uint64_t va = (uint64_t)i << 12, pa = UINT64_C(0x80000000) + va;
            cr_assert_eq(vtd_pt_map(&s->fs[d], va, pa, 0x1000, 12, perm, flags), 0);
            cr_assert_eq(vtd_pt_map(&s->ss[d], va, pa, 0x1000, 12, perm & ~VTD_PERM_U, flags), 0);
        }
        cr_assert_eq(vtd_pt_map(&s->fs[d], BIG_VA, 0x90000000, 0x200000, 21, VTD_PERM_R | VTD_PERM_W, VTD_MAP_AD), 0);
    }
}

static void setup_with(bool oracle)
{
    rng = UINT64_C(0x9e3779b97f4a7c15);
    for (int k = 0; k < 2; k++)
        side_init(&sides[k], k == 0, oracle);
}

static void setup_oracle_off(void) { setup_with(false); }
static void setup_oracle_on(void) { setup_with(true); }
static void teardown(void) { twins_fini(sides); }

static void same_dma(const struct vtd_request *req, unsigned op)
{
    struct vtd_dma_result res[2];
    twins_dma(sides, req, op, res);
    cr_assert_eq(res[0].x.fault.level, res[1].x.fault.level, "op %u", op);
    cr_assert_eq(res[0].paging_reads, res[1].paging_reads, "op %u", op);
    cr_assert_eq(res[0].x.ctx.did, res[1].x.ctx.did, "op %u", op);
    cr_assert_eq(res[0].x.pe.pgtt, res[1].x.pe.pgtt, "op %u", op);
}

static void random_dma(unsigned op)
{
    static const unsigned accesses[] = {VTD_ACC_R, VTD_ACC_R, VTD_ACC_R, VTD_ACC_W, VTD_ACC_X, VTD_ACC_R | VTD_ACC_W};
    uint64_t r = next_rand();
    bool pasid = (r & 3) != 0;
    /* Mostly a few hot pages, sometimes the 2 MiB page or beyond the mapped ones. */
    uint64_t page = (r >> 8) & 7 ? (r >> 12) % 4 : (r >> 12) % (NPAGES + 2);
    uint64_t addr = (r >> 16) % 16 == 0 ? BIG_VA + ((r >> 20) % 512 << 12) : page << 12;
    struct vtd_request req = {.sid = (r >> 30) % 8 ? SID_A : SID_ATS, .pasid_valid = pasid, .pasid = pasid ? PASID : 0,
                              .addr = addr | ((r >> 40) & 0x38), .access = accesses[(r >> 50) % 6],
                              .priv = pasid && (r >> 60) % 4 == 0};
    same_dma(&req, op);
}

/* Edit a page in both worlds without invalidating: remap, write-protect or unmap. */
static void random_edit(void)
{
    uint64_t r = next_rand();
    struct vtd_pt *pt[2] = {&sides[0].fs[(r >> 8) & 1], &sides[1].fs[(r >> 8) & 1]};
    twins_edit_page(pt, (r % 4) << 12, VTD_PERM_U, r >> 12);
}

static void random_invalidation(void)
{
    uint64_t r = next_rand();
    twins_invalidate_some(sides, r, sides[0].fs_cfg[0].did, PASID, ((r >> 16) % 4) << 12);
}

static void random_mix(void)
{
    const struct twins_mix mix = {.ops = 20000, .of = 200, .dma = 196, .edit = 3, .every = 1000, .rand = next_rand,
                                  .request = random_dma, .change = random_edit, .invalidate = random_invalidation};
    twins_random_mix(sides[0].io, sides[1].io, &mix);
    twins_expect_same_devtlb_stats(sides, SID_ATS);
    cr_assert_eq(sides[1].io->fast_dma_hits, 0);
    cr_assert_leq(sides[0].io->fast_dma_hits, vtd_iommu_fast_hits(sides[0].io));
}

TestSuite(fast_dma, .init = setup_oracle_off, .fini = teardown);
TestSuite(fast_dma_oracle, .init = setup_oracle_on, .fini = teardown);

Test(fast_dma, same_answers_and_counters_with_the_oracle_off)
{
    random_mix();
    uint64_t iotlb_hits = vtd_cache_stats(vtd_iommu_cache(sides[0].io, VTD_C_IOTLB))->hits;
    cr_assert_gt(sides[0].io->fast_dma_hits, iotlb_hits / 5, "%llu of %llu IOTLB hits answered whole",
                 (unsigned long long)sides[0].io->fast_dma_hits, (unsigned long long)iotlb_hits);
}

Test(fast_dma_oracle, same_answers_stale_reports_and_counters_with_the_oracle_on)
{
    random_mix();
    /* Only while simulated memory is unchanged since the oracle's memo checked the same request:
     * the walks' A/D updates on the pages mapped without them move it often here (187 of
     * about 10,900 IOTLB hits with this seed). */
    cr_assert_gt(sides[0].io->fast_dma_hits, 100, "%llu", (unsigned long long)sides[0].io->fast_dma_hits);
    cr_assert_gt(vtd_iommu_stats(sides[0].io)->stale, 0, "edits without invalidation must show stale hits");
}

/* Four reads of one page through side 0: a walk, a full lookup that the fast path remembers, a
 * fast-path hit that arms the slot, and one answered whole. */
static struct vtd_request warm_read(void)
{
    struct vtd_request req = {.sid = SID_A, .pasid_valid = true, .pasid = PASID, .addr = 0x1008, .access = VTD_ACC_R};
    struct vtd_dma_result res;
    for (int i = 0; i < 4; i++)
        cr_assert_eq(vtd_iommu_dma(sides[0].io, &req, &res), 0);
    cr_assert_eq(sides[0].io->fast_dma_hits, 1);
    cr_assert_eq(res.x.out, 0x80001008);
    return req;
}

Test(fast_dma, translation_switched_off_is_seen_at_once)
{
    struct vtd_request req = warm_read();
    cr_assert_eq(vtd_iommu_reg_write(sides[0].io, VTD_REG_GCMD, 4, 0), 0);
    struct vtd_dma_result res;
    cr_assert_eq(vtd_iommu_dma(sides[0].io, &req, &res), 0);
    cr_assert_eq(res.x.out, req.addr, "untranslated with TE clear");
    cr_assert_eq(res.used, 0);
    cr_assert_eq(sides[0].io->fast_dma_hits, 1);
}

Test(fast_dma, a_trace_attached_takes_the_general_path)
{
    struct vtd_request req = warm_read();
    struct vtd_trace t = {0};
    vtd_iommu_set_trace(sides[0].io, &t);
    struct vtd_dma_result res;
    cr_assert_eq(vtd_iommu_dma(sides[0].io, &req, &res), 0);
    cr_assert_eq(res.source, VTD_SRC_IOTLB);
    cr_assert_eq(sides[0].io->fast_dma_hits, 1, "a traced request takes the general path");
    vtd_iommu_set_trace(sides[0].io, NULL);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(vtd_iommu_dma(sides[0].io, &req, &res), 0);
    cr_assert_eq(sides[0].io->fast_dma_hits, 2, "re-armed by the fast path after the trace is gone");
}

Test(fast_dma, another_access_is_checked_first)
{
    struct vtd_request req = warm_read();
    req.access = VTD_ACC_W; /* page 1 is writable */
    struct vtd_dma_result res;
    cr_assert_eq(vtd_iommu_dma(sides[0].io, &req, &res), 0);
    cr_assert_eq(sides[0].io->fast_dma_hits, 1);
    req.access = VTD_ACC_X; /* without ECAP.ERS a read; page 1 is not executable, still no fault */
    cr_assert_eq(vtd_iommu_dma(sides[0].io, &req, &res), 0);
    cr_assert_eq(sides[0].io->fast_dma_hits, 1);
    req.pasid = 2; /* no such PASID: a fault, never a remembered answer */
    cr_assert_neq(vtd_iommu_dma(sides[0].io, &req, &res), 0);
    cr_assert_eq(sides[0].io->fast_dma_hits, 1);
}

Test(fast_dma, a_device_tlb_answers_first)
{
    struct vtd_request req = {.sid = SID_ATS, .pasid_valid = true, .pasid = PASID, .addr = 0x1000, .access = VTD_ACC_R};
    struct vtd_dma_result res;
    for (int i = 0; i < 4; i++)
        cr_assert_eq(vtd_iommu_dma(sides[0].io, &req, &res), 0);
    cr_assert_eq(res.source, VTD_SRC_DEVTLB);
    cr_assert_eq(sides[0].io->fast_dma_hits, 0);
}
