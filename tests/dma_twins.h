/*
 * dma_twins.h: the fixture and comparisons of the differential tests that run two IOMMUs
 * identical but for one speed-up (test_fastpath: the IOTLB-hit fast path; test_oracle_memo: the
 * oracle's memo; test_fast_dma: the whole-request hit). A speed-up may change nothing a user
 * sees: the answer, the stale and lost-A/D reports, the counters of the IOMMU and of every cache.
 * Each side has two devices with a first-stage PASID and a second-stage RID_PASID space each,
 * optionally a nested PASID on the first device; the test maps the pages. (test_fast_miss, with
 * two first-stage PASIDs a device, keeps sides of its own and uses the comparisons and generator.)
 */
#ifndef VTDSIM_TESTS_DMA_TWINS_H
#define VTDSIM_TESTS_DMA_TWINS_H

#include <criterion/criterion.h>
#include <string.h>

#include "sim/iommu.h"
#include "sim/qi.h"
#include "world.h"
#include "xorshift.h"

/* The random mixes' generator (xorshift64): the same sequence drives both sides. */
static inline uint64_t twins_rand(uint64_t *state) { return xorshift64(state); }

struct twin_side {
    struct vtd_iommu *io;
    struct world w;
    struct vtd_ctx ctx[2];
    struct vtd_pt fs[2], ss[2], nest_fs[1], nest_ss[1];
    struct vtd_pasid_cfg fs_cfg[2], ss_cfg[2], nest_cfg[1];
};

/* What both sides are built with besides the IOMMU configuration. */
struct twins_layout {
    struct vtd_device_config dev[2]; /* the two devices (their sid included) */
    uint32_t fs_pasid;               /* each device's first-stage PASID */
    uint32_t nest_pasid;             /* a nested PASID on dev[0] when nonzero */
};

static inline void twins_side_init(struct twin_side *s, const struct vtd_iommu_config *c,
                                   const struct twins_layout *l)
{
    const char *why = NULL;
    s->io = vtd_iommu_new(c, &why);
    cr_assert_not_null(s->io, "%s", why ? why : "");
    cr_assert_eq(world_init_mem(&s->w, vtd_iommu_caps(s->io), vtd_iommu_mem(s->io)), 0);
    for (int d = 0; d < 2; d++) {
        cr_assert_eq(world_device(&s->w, l->dev[d].sid, &s->ctx[d]), 0);
        cr_assert_eq(world_pasid(&s->w, &s->ctx[d], l->fs_pasid, VTD_PGTT_FS, 4, 0, &s->fs[d], NULL, &s->fs_cfg[d]), 0);
        /* world_pasid gives every nested table the same guest RAM. */
        if (d == 0 && l->nest_pasid)
            cr_assert_eq(world_pasid(&s->w, &s->ctx[d], l->nest_pasid, VTD_PGTT_NESTED, 4, 4, &s->nest_fs[0],
                                     &s->nest_ss[0], &s->nest_cfg[0]), 0);
        cr_assert_eq(world_pasid(&s->w, &s->ctx[d], 0, VTD_PGTT_SS, 4, 0, NULL, &s->ss[d], &s->ss_cfg[d]), 0);
        cr_assert_eq(vtd_iommu_add_device(s->io, &l->dev[d]), 0);
    }
    vtd_iommu_set_root(s->io, s->w.rtaddr);
}

/*
 * The two-device side test_fast_dma and test_dma_pages replay against: `c` (the caller's other
 * settings) with a 4x4 LRU IOTLB that pages evict, a device `sid` and an ATS device `ats_sid`
 * with 2x2 device TLBs, and PASID `pasid` first-stage.
 */
static inline void twins_two_devices_init(struct twin_side *s, struct vtd_iommu_config *c, uint16_t sid,
                                          uint16_t ats_sid, uint32_t pasid)
{
    c->cache[VTD_C_IOTLB] = (struct vtd_cache_geometry){.sets = 4, .ways = 4, .repl = VTD_REPL_LRU};
    const struct twins_layout l = {
        .dev = {{.sid = sid, .pasid_bits = 20, .devtlb = {.sets = 2, .ways = 2}},
                {.sid = ats_sid, .pasid_bits = 20, .ats = true, .devtlb = {.sets = 2, .ways = 2}}},
        .fs_pasid = pasid};
    twins_side_init(s, c, &l);
}

static inline void twins_fini(struct twin_side sides[2])
{
    for (int k = 0; k < 2; k++) {
        if (!sides[k].io)
            continue;
        world_fini(&sides[k].w);
        vtd_iommu_free(sides[k].io);
        sides[k].io = NULL;
    }
}

/* One invalidation descriptor, submitted the same on both sides. */
static inline void twins_submit(struct twin_side sides[2], const struct vtd_desc *d)
{
    for (int k = 0; k < 2; k++) {
        struct vtd_qi_result qr;
        cr_assert_eq(vtd_qi_submit_desc(sides[k].io, d, &qr), 0, "%s", qr.why);
    }
}

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

/* The same request on both sides at step `op`; the answers must agree (returned in res). */
static inline void twins_dma(struct twin_side sides[2], const struct vtd_request *req, unsigned op,
                             struct vtd_dma_result res[2])
{
    int rc[2];
    for (int k = 0; k < 2; k++) {
        vtd_iommu_set_step(sides[k].io, op);
        rc[k] = vtd_iommu_dma(sides[k].io, req, &res[k]);
    }
    twins_expect_same_result(rc[0], &res[0], rc[1], &res[1], op);
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

/* The same statistics in both sides' device TLB of `sid`. */
static inline void twins_expect_same_devtlb_stats(struct twin_side sides[2], uint16_t sid)
{
    const struct vtd_cache_stats *d0 = vtd_cache_stats(vtd_iommu_devtlb(sides[0].io, sid));
    const struct vtd_cache_stats *d1 = vtd_cache_stats(vtd_iommu_devtlb(sides[1].io, sid));
    cr_assert_eq(memcmp(d0, d1, sizeof(*d0)), 0, "device-TLB statistics differ");
}

/*
 * The random mix every differential test runs: `ops` operations, each picked by rand() % of: a
 * request below `dma`, an edit below `dma + edit`, an invalidation otherwise; both IOMMUs'
 * counters compared every `every` operations and at the end, with `check` (if any) beside them.
 */
/*
 * One table edit without invalidation, the same on both sides' table `pt[k]`: choice % 3 picks
 * a remap of the page at va (read/write), a downgrade to read-only, or an unmap. `user` is
 * VTD_PERM_U for a first-stage table, 0 for a second-stage one (its entries have no U bit).
 */
static inline void twins_edit_page(struct vtd_pt *pt[2], uint64_t va, unsigned user, uint64_t choice)
{
    for (int k = 0; k < 2; k++) {
        switch (choice % 3) {
        case 0:
            vtd_pt_unmap(pt[k], va, 0x1000);
            cr_assert_eq(vtd_pt_map(pt[k], va, UINT64_C(0xC0000000) + va, 0x1000, 12, VTD_PERM_R | VTD_PERM_W | user,
                                    VTD_MAP_AD), 0);
            break;
        case 1:
            vtd_pt_protect(pt[k], va, 0x1000, VTD_PERM_R | user);
            break;
        default:
            vtd_pt_unmap(pt[k], va, 0x1000);
            break;
        }
    }
}

/* One of: a global IOTLB flush, the page at `page_addr` of the PASID in domain `did`, a global
 * context-cache flush (choice % 3), submitted to both sides. */
static inline void twins_invalidate_some(struct twin_side sides[2], uint64_t choice, uint16_t did, uint32_t pasid,
                                         uint64_t page_addr)
{
    struct vtd_desc d;
    switch (choice % 3) {
    case 0:
        d = vtd_desc_iotlb(VTD_QI_IOTLB_G_GLOBAL, 0, 0, 0, false, false, false);
        break;
    case 1:
        d = vtd_desc_p_iotlb(VTD_QI_PIOTLB_G_PAGE, did, pasid, page_addr, 0, false);
        break;
    default:
        d = vtd_desc_cc(VTD_QI_CC_G_GLOBAL, 0, 0, 0);
        break;
    }
    twins_submit(sides, &d);
}

struct twins_mix {
    unsigned ops, of, dma, edit, every;
    uint64_t (*rand)(void);
    void (*request)(unsigned op);
    void (*change)(void);
    void (*invalidate)(void);
    void (*check)(unsigned op);
};

static inline void twins_random_mix(struct vtd_iommu *io0, struct vtd_iommu *io1, const struct twins_mix *m)
{
    for (unsigned op = 1; op <= m->ops; op++) {
        unsigned pick = (unsigned)(m->rand() % m->of);
        if (pick < m->dma)
            m->request(op);
        else if (pick < m->dma + m->edit)
            m->change();
        else
            m->invalidate();
        if (op % m->every == 0) {
            twins_expect_same_counters(io0, io1, op);
            if (m->check)
                m->check(op);
        }
    }
    twins_expect_same_counters(io0, io1, 0);
    if (m->check)
        m->check(0);
}

#endif
