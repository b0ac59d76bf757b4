/*
 * test_fastpath.c: the IOTLB-hit fast path (sim/xlate.c) changes speed, nothing else. Two
 * IOMMUs, identical but for cfg.fast_path, replay the same random mix of DMA requests, page
 * table edits (with and without invalidation) and invalidation descriptors; every answer, every
 * stale report and every counter must be the same.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "sim/iommu_internal.h"
#include "sim/qi_desc.h"
#include "dma_twins.h"

#define SID_A vtd_sid(0, 3, 0)
#define SID_B vtd_sid(0, 5, 1)
#define NPAGES 48
#define FS_PASID 1
#define NEST_PASID 2

static struct twin_side sides[2]; /* [0]: fast path on, [1]: off */
static bool with_ers;             /* ECAP.ERS: execute requests checked against the PASID entry's ERE */

static uint64_t rng = UINT64_C(0x2545f4914f6cdd1d);
static uint64_t next_rand(void) { return twins_rand(&rng); }

static void side_init(struct twin_side *s, bool fast)
{
    struct vtd_iommu_config c;
    vtd_iommu_config_default(&c);
    c.fast_path = fast;
    if (with_ers)
        c.caps.ecap |= VTD_ECAP_ERS;
    /* Small caches so that evictions happen too. */
    c.cache[VTD_C_IOTLB] = (struct vtd_cache_geometry){.sets = 4, .ways = 4, .repl = VTD_REPL_LRU};
    c.cache[VTD_C_CONTEXT] = (struct vtd_cache_geometry){.sets = 1, .ways = 2, .repl = VTD_REPL_LRU};
    const struct twins_layout l = {.dev = {{.sid = SID_A, .pasid_bits = 20}, {.sid = SID_B, .pasid_bits = 20}},
                                   .fs_pasid = FS_PASID, .nest_pasid = NEST_PASID};
    twins_side_init(s, &c, &l);
}

/* Page i: 4 KiB pages with a permission that varies by page; without A/D for a third. */
static unsigned page_perm(unsigned i)
{
    static const unsigned perms[] = {VTD_PERM_R | VTD_PERM_W | VTD_PERM_U, VTD_PERM_R | VTD_PERM_U,
                                     VTD_PERM_R | VTD_PERM_W, VTD_PERM_R | VTD_PERM_W | VTD_PERM_U | VTD_PERM_X};
    return perms[i % 4];
}

static void map_page(struct twin_side *s, int d, unsigned i, uint64_t out_base)
{
    uint64_t va = (uint64_t)i << 12, pa = out_base + ((uint64_t)i << 12);
    unsigned flags = i % 3 ? VTD_MAP_AD : 0;
    cr_assert_eq(vtd_pt_map(&s->fs[d], va, pa, 0x1000, 12, page_perm(i), flags), 0);
    if (d == 0)
        cr_assert_eq(vtd_pt_map(&s->nest_fs[0], va, (uint64_t)i << 12, 0x1000, 12, page_perm(i), flags), 0);
    cr_assert_eq(vtd_pt_map(&s->ss[d], va, pa, 0x1000, 12, page_perm(i) & ~VTD_PERM_U, flags), 0);
}

static void setup(void)
{
    for (int k = 0; k < 2; k++) {
        side_init(&sides[k], k == 0);
        for (int d = 0; d < 2; d++)
            for (unsigned i = 0; i < NPAGES; i++)
                map_page(&sides[k], d, i, UINT64_C(0x80000000));
    }
}

static void teardown(void) { twins_fini(sides); }

static unsigned iotlb_answers; /* requests the IOTLB answered (fast path or not) */

static void random_dma(unsigned op)
{
    static const int64_t pasids[] = {-1, FS_PASID, NEST_PASID, FS_PASID, FS_PASID, FS_PASID, FS_PASID, 9 /* no entry */};
    static const unsigned accesses[] = {VTD_ACC_R, VTD_ACC_R, VTD_ACC_W, VTD_ACC_X, VTD_ACC_R | VTD_ACC_W};
    uint64_t r = next_rand();
    int64_t pasid = pasids[r % 8];
    struct vtd_request req = {
        .sid = (r >> 8) & 1 ? SID_B : SID_A, .pasid_valid = pasid >= 0, .pasid = pasid >= 0 ? (uint32_t)pasid : 0,
        /* Mostly a few hot pages, so that hits dominate; sometimes beyond the mapped ones. */
        .addr = (((r >> 16) & 15 ? (r >> 20) % 4 : (r >> 20) % (NPAGES + 4)) << 12) | ((r >> 40) & 0xff8),
        .access = accesses[(r >> 32) % 5], .priv = (r >> 36) & 1};
    struct vtd_dma_result res[2];
    twins_dma(sides, &req, op, res);
    iotlb_answers += res[0].source == VTD_SRC_IOTLB;
}

/* Change a mapping in both worlds: remap, write-protect or unmap one page. */
static void random_edit(void)
{
    uint64_t r = next_rand();
    unsigned i = (unsigned)(r % 8), d = (r >> 8) & 1;
    for (int k = 0; k < 2; k++) {
        struct twin_side *s = &sides[k];
        switch ((r >> 12) % 3) {
        case 0: /* remap the first-stage page elsewhere (it may be unmapped already) */
            vtd_pt_unmap(&s->fs[d], (uint64_t)i << 12, 0x1000);
            cr_assert_eq(vtd_pt_map(&s->fs[d], (uint64_t)i << 12, UINT64_C(0xC0000000) + ((uint64_t)i << 12), 0x1000,
                                    12, page_perm(i), VTD_MAP_AD), 0);
            break;
        case 1: /* write-protect (nothing to do when unmapped) */
            vtd_pt_protect(&s->fs[d], (uint64_t)i << 12, 0x1000, VTD_PERM_R | VTD_PERM_U);
            break;
        default:
            vtd_pt_unmap(&s->fs[d], (uint64_t)i << 12, 0x1000);
            break;
        }
    }
}

/* One invalidation descriptor (sim/qi_desc.h's encoders), the same on both sides. */
static void random_invalidation(void)
{
    uint64_t r = next_rand();
    uint16_t did = sides[0].fs_cfg[(r >> 8) & 1].did;
    struct vtd_desc d;
    switch (r % 5) {
    case 0:
        d = vtd_desc_cc(VTD_QI_CC_G_GLOBAL, 0, 0, 0);
        break;
    case 1:
        d = vtd_desc_iotlb(VTD_QI_IOTLB_G_GLOBAL, 0, 0, 0, false, false, false);
        break;
    case 2: /* one page of the PASID */
        d = vtd_desc_p_iotlb(VTD_QI_PIOTLB_G_PAGE, did, FS_PASID, ((r >> 16) % 8) << 12, 0, false);
        break;
    case 3:
        d = vtd_desc_pc(VTD_QI_PC_G_PASID, did, FS_PASID);
        break;
    default: /* the RID_PASID domain */
        d = vtd_desc_iotlb(VTD_QI_IOTLB_G_DOMAIN, sides[0].ss_cfg[0].did, 0, 0, false, false, false);
        break;
    }
    twins_submit(sides, &d);
}

TestSuite(fastpath, .init = setup, .fini = teardown);

static void random_mix(void)
{
    const struct twins_mix mix = {.ops = 20000, .of = 100, .dma = 97, .edit = 2, .every = 1000, .rand = next_rand,
                                  .request = random_dma, .change = random_edit, .invalidate = random_invalidation};
    twins_random_mix(sides[0].io, sides[1].io, &mix);
    /* The comparison means something only if the fast path answered often, stale or not. */
    cr_assert_gt(vtd_iommu_fast_hits(sides[0].io), iotlb_answers / 4, "%llu of %u",
                 (unsigned long long)vtd_iommu_fast_hits(sides[0].io), iotlb_answers);
    cr_assert_eq(vtd_iommu_fast_hits(sides[1].io), 0);
    cr_assert_gt(vtd_iommu_stats(sides[0].io)->stale, 0, "edits without invalidation must show stale hits");
}

Test(fastpath, same_answers_and_counters_as_the_full_lookup)
{
    random_mix();
}

/* With ECAP.ERS an execute request after a read hit of the same page must still fault on the
 * PASID entry's ERE (the fast path repeats the request checks per access). */
static void setup_ers(void)
{
    with_ers = true;
    setup();
}

TestSuite(fastpath_ers, .init = setup_ers, .fini = teardown);

Test(fastpath_ers, same_answers_with_execute_requests_checked)
{
    random_mix();
    cr_assert_gt(vtd_iommu_stats(sides[0].io)->fault_count[VTD_FR_PASID_ERE], 0);
}

/* A write through an IOTLB entry filled by a read of a clean page sets D in memory (6.2.2),
 * even when that entry is remembered by the fast path. */
Test(fastpath, write_through_a_clean_entry_still_sets_dirty)
{
    struct twin_side *s = &sides[0];
    uint64_t va = 0; /* page 0: no A/D preset, writable */
    struct vtd_request req = {.sid = SID_A, .pasid_valid = true, .pasid = FS_PASID, .addr = va, .access = VTD_ACC_R};
    struct vtd_dma_result res;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(vtd_iommu_dma(s->io, &req, &res), 0);
    cr_assert_eq(res.source, VTD_SRC_IOTLB);
    cr_assert_gt(vtd_iommu_fast_hits(s->io), 0);
    req.access = VTD_ACC_W;
    cr_assert_eq(vtd_iommu_dma(s->io, &req, &res), 0);
    cr_assert(res.x.dirty);
    cr_assert_gt(res.reads, 0, "the write re-walks to set D");
    uint64_t pte_addr, pte;
    cr_assert_eq(vtd_pt_entry_addr(&s->fs[0], va, 1, &pte_addr), 0);
    cr_assert_eq(vtd_mem_read64(vtd_iommu_mem(s->io), pte_addr, &pte), 0);
    cr_assert(pte & (UINT64_C(1) << 6), "D set in the leaf");
}

/* An invalidation removes what the fast path remembered: the next request walks again. */
Test(fastpath, invalidation_forgets_remembered_hits)
{
    struct twin_side *s = &sides[0];
    struct vtd_request req = {.sid = SID_A, .pasid_valid = true, .pasid = FS_PASID, .addr = 0x1000, .access = VTD_ACC_R};
    struct vtd_dma_result res;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(vtd_iommu_dma(s->io, &req, &res), 0);
    uint64_t hits = vtd_iommu_fast_hits(s->io);
    cr_assert_gt(hits, 0);
    uint64_t d[4] = {VTD_QI_IOTLB | (1u << 4), 0, 0, 0};
    struct vtd_qi_result qr;
    cr_assert_eq(vtd_qi_submit(s->io, d, 4, &qr), 0, "%s", qr.why);
    cr_assert_eq(vtd_iommu_dma(s->io, &req, &res), 0);
    cr_assert_eq(res.source, VTD_SRC_WALK);
    cr_assert_eq(vtd_iommu_fast_hits(s->io), hits);
}

/*
 * A remembered hit on a large page gives way to a smaller page filled later for the same
 * address, as the full lookup does (it probes 4 KiB first): here a write through the clean
 * 2 MiB entry re-walks tables that now map 4 KiB pages and fills a 4 KiB entry beside it.
 */
Test(fastpath, smaller_page_filled_later_wins_as_in_the_full_lookup)
{
    const uint64_t va = 0x40000000;
    struct vtd_request req = {.sid = SID_A, .pasid_valid = true, .pasid = FS_PASID, .addr = va + 0x1000,
                              .access = VTD_ACC_R};
    struct vtd_dma_result res[2];
    for (int k = 0; k < 2; k++) {
        struct twin_side *s = &sides[k];
        cr_assert_eq(vtd_pt_map(&s->fs[0], va, 0x80000000, 0x200000, 21, page_perm(0), 0), 0);
        for (int i = 0; i < 3; i++)
            cr_assert_eq(vtd_iommu_dma(s->io, &req, &res[k]), 0);
        cr_assert_eq(res[k].x.page_shift, 21);
        /* Remap as 4 KiB pages elsewhere, without invalidating. */
        cr_assert_eq(vtd_pt_unmap(&s->fs[0], va, 0x200000), 0);
        cr_assert_eq(vtd_pt_map(&s->fs[0], va, 0x90000000, 0x200000, 12, page_perm(0), 0), 0);
    }
    cr_assert_gt(vtd_iommu_fast_hits(sides[0].io), 0);
    req.access = VTD_ACC_W;
    for (int k = 0; k < 2; k++)
        cr_assert_eq(vtd_iommu_dma(sides[k].io, &req, &res[k]), 0);
    cr_assert_eq(res[0].x.out, res[1].x.out);
    req.access = VTD_ACC_R;
    int rc[2];
    for (int k = 0; k < 2; k++)
        rc[k] = vtd_iommu_dma(sides[k].io, &req, &res[k]);
    twins_expect_same_result(rc[0], &res[0], rc[1], &res[1], 0);
    cr_assert_eq(res[0].x.page_shift, 12, "the 4 KiB entry answers");
    cr_assert_eq(res[0].x.out, 0x90001000);
    twins_expect_same_counters(sides[0].io, sides[1].io, 0);
}
