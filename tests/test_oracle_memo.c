/*
 * test_oracle_memo.c: the oracle's memo (sim/oracle_memo.c) changes speed, nothing else. Two
 * IOMMUs with the oracle on, identical but for cfg.oracle_memo, replay the same random mix of
 * DMA requests (one device with a device TLB), page-table edits without invalidation, cleared
 * A and D bits (a dirty-page harvest) and invalidation descriptors; every answer, stale report,
 * lost-A/D report and counter must be the same, and the memo must have answered often.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "sim/iommu_internal.h"
#include "sim/qi_desc.h"
#include "walker/fs_entry.h"
#include "dma_twins.h"

#define SID_A vtd_sid(0, 3, 0)
#define SID_ATS vtd_sid(0, 5, 1)
#define NPAGES 32
#define FS_PASID 1

static struct twin_side sides[2]; /* [0]: memo on, [1]: off */

static uint64_t rng = UINT64_C(0x9e3779b97f4a7c15);
static uint64_t next_rand(void) { return twins_rand(&rng); }

static void side_init(struct twin_side *s, bool memo)
{
    struct vtd_iommu_config c;
    vtd_iommu_config_default(&c);
    cr_assert(c.oracle && c.oracle_memo, "both on by default");
    c.oracle_memo = memo;
    /* Small caches so that evictions and refills happen too. */
    c.cache[VTD_C_IOTLB] = (struct vtd_cache_geometry){.sets = 4, .ways = 4, .repl = VTD_REPL_LRU};
    const struct twins_layout l = {
        .dev = {{.sid = SID_A, .pasid_bits = 20, .devtlb = {.sets = 4, .ways = 2, .repl = VTD_REPL_LRU}},
                {.sid = SID_ATS, .pasid_bits = 20, .ats = true, .devtlb = {.sets = 4, .ways = 2, .repl = VTD_REPL_LRU}}},
        .fs_pasid = FS_PASID};
    twins_side_init(s, &c, &l);
}

static unsigned page_perm(unsigned i)
{
    static const unsigned perms[] = {VTD_PERM_R | VTD_PERM_W | VTD_PERM_U, VTD_PERM_R | VTD_PERM_U,
                                     VTD_PERM_R | VTD_PERM_W, VTD_PERM_R | VTD_PERM_W | VTD_PERM_U | VTD_PERM_X};
    return perms[i % 4];
}

static void setup(void)
{
    for (int k = 0; k < 2; k++) {
        side_init(&sides[k], k == 0);
        for (int d = 0; d < 2; d++)
            for (unsigned i = 0; i < NPAGES; i++) {
                uint64_t va = (uint64_t)i << 12, pa = UINT64_C(0x80000000) + va;
                /* A/D preset on two pages of three: the others get them from the first walks. */
                unsigned flags = i % 3 ? VTD_MAP_AD : 0;
                cr_assert_eq(vtd_pt_map(&sides[k].fs[d], va, pa, 0x1000, 12, page_perm(i), flags), 0);
                cr_assert_eq(vtd_pt_map(&sides[k].ss[d], va, pa, 0x1000, 12, page_perm(i) & ~VTD_PERM_U, flags), 0);
            }
    }
}

static void teardown(void) { twins_fini(sides); }

static unsigned cached_answers; /* requests a cache helped with: the oracle checked each */

static void random_dma(unsigned op)
{
    static const unsigned accesses[] = {VTD_ACC_R, VTD_ACC_R, VTD_ACC_W, VTD_ACC_X, VTD_ACC_R | VTD_ACC_W};
    uint64_t r = next_rand();
    bool with_pasid = (r & 3) != 0;
    struct vtd_request req = {
        .sid = (r >> 8) & 1 ? SID_ATS : SID_A, .pasid_valid = with_pasid, .pasid = with_pasid ? FS_PASID : 0,
        /* A few hot pages, so that repeats dominate; sometimes beyond the mapped ones. */
        .addr = (((r >> 16) & 15 ? (r >> 20) % 4 : (r >> 20) % (NPAGES + 4)) << 12) | 0x18,
        .access = accesses[(r >> 32) % 5], .priv = with_pasid && ((r >> 36) & 7) == 0};
    struct vtd_dma_result res[2];
    twins_dma(sides, &req, op, res);
    cached_answers += res[0].used != 0;
}

/* The first-stage leaf of page i of device d, if mapped (its address in *addr). */
static bool leaf_of(struct twin_side *s, unsigned d, unsigned i, uint64_t *addr)
{
    uint64_t e;
    return vtd_pt_entry_addr(&s->fs[d], (uint64_t)i << 12, 1, addr) == 0 &&
           vtd_mem_read64(vtd_iommu_mem(s->io), *addr, &e) == 0 && (e & VTD_FS_P);
}

/* Change a mapping in both worlds without invalidating: remap, write-protect, unmap, or clear
 * the leaf's A and D bits as a dirty-page harvest does. */
static void random_edit(void)
{
    uint64_t r = next_rand();
    unsigned i = (unsigned)(r % 6), d = (r >> 8) & 1;
    for (int k = 0; k < 2; k++) {
        struct twin_side *s = &sides[k];
        uint64_t leaf, e;
        switch ((r >> 12) % 4) {
        case 0:
            vtd_pt_unmap(&s->fs[d], (uint64_t)i << 12, 0x1000);
            cr_assert_eq(vtd_pt_map(&s->fs[d], (uint64_t)i << 12, UINT64_C(0xC0000000) + ((uint64_t)i << 12), 0x1000,
                                    12, page_perm(i), VTD_MAP_AD), 0);
            break;
        case 1:
            vtd_pt_protect(&s->fs[d], (uint64_t)i << 12, 0x1000, VTD_PERM_R | VTD_PERM_U);
            break;
        case 2:
            if (leaf_of(s, d, i, &leaf)) {
                cr_assert_eq(vtd_mem_read64(vtd_iommu_mem(s->io), leaf, &e), 0);
                cr_assert_eq(vtd_mem_write64(vtd_iommu_mem(s->io), leaf, e & ~(VTD_FS_A | VTD_FS_D)), 0);
            }
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
    switch (r % 4) {
    case 0:
        d = vtd_desc_iotlb(VTD_QI_IOTLB_G_GLOBAL, 0, 0, 0, false, false, false);
        break;
    case 1:
        d = vtd_desc_p_iotlb(VTD_QI_PIOTLB_G_PAGE, did, FS_PASID, ((r >> 16) % 6) << 12, 0, false);
        break;
    case 2: /* the ATS device's TLB, everything */
        d = vtd_desc_devtlb(SID_ATS, 0, 0, vtd_devtlb_size_encode(0, VTD_QI_AM_EVERYTHING));
        break;
    default:
        d = vtd_desc_pc(VTD_QI_PC_G_PASID, did, FS_PASID);
        break;
    }
    twins_submit(sides, &d);
}

TestSuite(oracle_memo, .init = setup, .fini = teardown);

Test(oracle_memo, same_answers_reports_and_counters_as_the_fresh_walk)
{
    const struct twins_mix mix = {.ops = 20000, .of = 100, .dma = 96, .edit = 2, .every = 1000, .rand = next_rand,
                                  .request = random_dma, .change = random_edit, .invalidate = random_invalidation};
    twins_random_mix(sides[0].io, sides[1].io, &mix);
    const struct vtd_iommu_stats *st = vtd_iommu_stats(sides[0].io);
    /* The comparison means something only if the memo answered often and the mix made stale
     * answers and lost A/D bits for it to miss (each edit changes memory, after which every
     * request identity is checked in full once more). */
    cr_assert_gt(vtd_iommu_oracle_memo_hits(sides[0].io), cached_answers / 10, "%llu of %u",
                 (unsigned long long)vtd_iommu_oracle_memo_hits(sides[0].io), cached_answers);
    cr_assert_eq(vtd_iommu_oracle_memo_hits(sides[1].io), 0);
    cr_assert_gt(st->stale, 0);
    cr_assert_gt(st->dirty_lost + st->accessed_lost, 0);
}

/* A request checked clean is answered by the memo; the edit that makes it stale is still
 * reported, on the very next request, with the fresh walk's answer. */
Test(oracle_memo, an_edit_after_memo_hits_is_still_stale)
{
    struct twin_side *s = &sides[0];
    struct vtd_request req = {.sid = SID_A, .pasid_valid = true, .pasid = FS_PASID, .addr = 0x1008, .access = VTD_ACC_R};
    struct vtd_dma_result res;
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(vtd_iommu_dma(s->io, &req, &res), 0);
        cr_assert_not(res.stale);
    }
    cr_assert_eq(res.source, VTD_SRC_IOTLB);
    cr_assert_eq(vtd_iommu_oracle_memo_hits(s->io), 2, "the first hit is checked in full, the next two are not");
    cr_assert_eq(vtd_pt_unmap(&s->fs[0], 0x1000, 0x1000), 0);
    cr_assert_eq(vtd_iommu_dma(s->io, &req, &res), 0);
    cr_assert(res.stale);
    cr_assert_eq(res.report.fresh.fault.code, VTD_FR_FS_P);
    cr_assert_eq(vtd_iommu_oracle_memo_hits(s->io), 2);
}

/* Clearing D (a harvest) without invalidating: the next write served from the IOTLB reports the
 * lost D bit even though the same write was answered by the memo just before. */
Test(oracle_memo, a_harvested_dirty_bit_is_still_reported_lost)
{
    struct twin_side *s = &sides[0];
    const unsigned page = 4; /* writable by user requests, A/D preset */
    struct vtd_request req = {.sid = SID_A, .pasid_valid = true, .pasid = FS_PASID, .addr = (uint64_t)page << 12,
                              .access = VTD_ACC_W};
    struct vtd_dma_result res;
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(vtd_iommu_dma(s->io, &req, &res), 0);
        cr_assert_not(res.lost.dirty);
    }
    cr_assert_gt(vtd_iommu_oracle_memo_hits(s->io), 0);
    uint64_t leaf, e;
    cr_assert(leaf_of(s, 0, page, &leaf));
    cr_assert_eq(vtd_mem_read64(vtd_iommu_mem(s->io), leaf, &e), 0);
    cr_assert_eq(vtd_mem_write64(vtd_iommu_mem(s->io), leaf, e & ~VTD_FS_D), 0);
    cr_assert_eq(vtd_iommu_dma(s->io, &req, &res), 0);
    cr_assert_eq(res.source, VTD_SRC_IOTLB);
    cr_assert(res.lost.dirty);
}

/* Simulated memory's generation moves with every kind of change a read could see. */
Test(oracle_memo, memory_generation_moves_with_every_change)
{
    struct vtd_mem *m = vtd_iommu_mem(sides[0].io);
    uint64_t g = vtd_mem_generation(m), actual;
    uint8_t buf[16] = {1};
    cr_assert_eq(vtd_mem_write64(m, 0x9000000, 5), 0);
    cr_assert_gt(vtd_mem_generation(m), g);
    g = vtd_mem_generation(m);
    cr_assert_eq(vtd_mem_write(m, 0x9000010, buf, sizeof buf), 0);
    cr_assert_gt(vtd_mem_generation(m), g);
    g = vtd_mem_generation(m);
    cr_assert_eq(vtd_mem_fill(m, 0x9000020, 0xff, 8), 0);
    cr_assert_gt(vtd_mem_generation(m), g);
    g = vtd_mem_generation(m);
    cr_assert_eq(vtd_mem_cmpxchg64(m, 0x9000000, 5, 7, &actual), 0);
    cr_assert_gt(vtd_mem_generation(m), g);
    g = vtd_mem_generation(m);
    cr_assert_eq(vtd_mem_set_abort(m, 0x9000000, 0x1000, VTD_MEM_ABORT_READ), 0);
    cr_assert_gt(vtd_mem_generation(m), g);
    g = vtd_mem_generation(m);
    cr_assert_eq(vtd_mem_set_cpu_cache(m, true), 0);
    cr_assert_eq(vtd_mem_write64(m, 0x9100000, 9), 0);
    g = vtd_mem_generation(m);
    size_t written = 0;
    cr_assert_eq(vtd_mem_wbinvd(m, &written), 0);
    cr_assert_eq(written, 1);
    cr_assert_gt(vtd_mem_generation(m), g, "a line written back changes what a non-snooped read sees");
    g = vtd_mem_generation(m);
    uint64_t v;
    cr_assert_eq(vtd_mem_read64(m, 0x9100000, &v), 0);
    cr_assert_eq(vtd_mem_generation(m), g, "a read changes nothing");
}
