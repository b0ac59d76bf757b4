/*
 * test_fast_miss.c: the IOTLB miss resumed from the paging-structure cache (sim/fast_miss.c)
 * changes speed, nothing else. Two IOMMUs, identical but for cfg.fast_miss, replay the same
 * random mix of DMA requests (4 KiB and 2 MiB pages, several devices and PASIDs, small caches so
 * that most misses resolve from a PDE-level cache entry), page-table edits and A/D harvests
 * without invalidation, and invalidations of every granularity: every answer, stale report,
 * counter and cache content must be the same. Then each case the path declines is shown to take
 * the general path.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "sim/iommu_internal.h"
#include "sim/qi.h"
#include "sim/qi_desc.h"
#include "dma_twins.h"

#define NDEV 2
#define NFS 2                   /* first-stage PASIDs per device: 1 and 3 */
#define NEST_PASID 2            /* on device 0 only */
#define NPAGES 64               /* 4 KiB pages in each of two 2 MiB regions */
#define REGION2 UINT64_C(0x200000)
#define LARGE_VA UINT64_C(0x40000000) /* one 2 MiB page */
#define INTR_PAGE 41            /* maps to the interrupt range: an untranslated request faults */
#define OPS 20000

static const uint16_t dev_sid[NDEV] = {0x0018, 0x0029};
static const uint32_t fs_pasid[NFS] = {1, 3};

struct fm_side {
    struct vtd_iommu *io;
    struct world w;
    struct vtd_ctx ctx[NDEV];
    struct vtd_pt fs[NDEV][NFS], nest_fs, nest_ss, ss[NDEV];
    struct vtd_pasid_cfg fs_cfg[NDEV][NFS], nest_cfg, ss_cfg[NDEV];
};

struct fm_twins {
    struct fm_side side[2]; /* [0]: fast miss on, [1]: off */
    uint64_t rng;
    bool oracle;
};

static struct fm_twins tw;

static uint64_t fm_rand(void) { return twins_rand(&tw.rng); }

static unsigned page_perm(unsigned i)
{
    static const unsigned perms[] = {VTD_PERM_R | VTD_PERM_W | VTD_PERM_U, VTD_PERM_R | VTD_PERM_U,
                                     VTD_PERM_R | VTD_PERM_W, VTD_PERM_R | VTD_PERM_W | VTD_PERM_U | VTD_PERM_X};
    return perms[i % 4];
}

static uint64_t page_va(unsigned i) { return (i < NPAGES ? 0 : REGION2 - NPAGES * 0x1000ull) + ((uint64_t)i << 12); }

static uint64_t page_out(unsigned i, uint64_t base)
{
    return i == INTR_PAGE ? VTD_INTR_ADDR_FIRST : base + ((uint64_t)i << 12);
}

static void map_fs_page(struct vtd_pt *pt, unsigned i, uint64_t base)
{
    /* A quarter of the pages without A/D set: their first use is an A/D update. */
    unsigned flags = i % 4 ? VTD_MAP_AD : 0;
    cr_assert_eq(vtd_pt_map(pt, page_va(i), page_out(i, base), 0x1000, 12, page_perm(i), flags), 0);
}

/* The tables and the root (memory only: a reset IOMMU gets them again). */
static void side_tables(struct fm_side *s);

static void side_init(struct fm_side *s, bool fast_miss)
{
    struct vtd_iommu_config c;
    vtd_iommu_config_default(&c);
    c.fast_miss = fast_miss;
    c.oracle = tw.oracle;
    /* Small caches: IOTLB misses are the common case, and every cache evicts. */
    c.cache[VTD_C_IOTLB] = (struct vtd_cache_geometry){.sets = 4, .ways = 2, .repl = VTD_REPL_LRU};
    c.cache[VTD_C_PSC_FS] = (struct vtd_cache_geometry){.sets = 2, .ways = 4, .repl = VTD_REPL_LRU};
    c.cache[VTD_C_PASID] = (struct vtd_cache_geometry){.sets = 1, .ways = 4, .repl = VTD_REPL_LRU};
    c.cache[VTD_C_CONTEXT] = (struct vtd_cache_geometry){.sets = 1, .ways = 2, .repl = VTD_REPL_LRU};
    const char *why = NULL;
    s->io = vtd_iommu_new(&c, &why);
    cr_assert_not_null(s->io, "%s", why ? why : "");
    for (int d = 0; d < NDEV; d++) {
        struct vtd_device_config dc = {.sid = dev_sid[d], .pasid_bits = 20};
        cr_assert_eq(vtd_iommu_add_device(s->io, &dc), 0);
    }
    side_tables(s);
}

static void side_tables(struct fm_side *s)
{
    cr_assert_eq(world_init_mem(&s->w, vtd_iommu_caps(s->io), vtd_iommu_mem(s->io)), 0);
    for (int d = 0; d < NDEV; d++) {
        cr_assert_eq(world_device(&s->w, dev_sid[d], &s->ctx[d]), 0);
        for (int p = 0; p < NFS; p++) {
            cr_assert_eq(world_pasid(&s->w, &s->ctx[d], fs_pasid[p], VTD_PGTT_FS, 4, 0, &s->fs[d][p], NULL,
                                     &s->fs_cfg[d][p]), 0);
            for (unsigned i = 0; i < 2 * NPAGES; i++)
                map_fs_page(&s->fs[d][p], i, UINT64_C(0x80000000) + ((uint64_t)(d * NFS + p) << 24));
            cr_assert_eq(vtd_pt_map(&s->fs[d][p], LARGE_VA, UINT64_C(0x60000000), 0x200000, 21,
                                    VTD_PERM_R | VTD_PERM_W | VTD_PERM_U, VTD_MAP_AD), 0);
        }
        if (d == 0) {
            cr_assert_eq(world_pasid(&s->w, &s->ctx[0], NEST_PASID, VTD_PGTT_NESTED, 4, 4, &s->nest_fs, &s->nest_ss,
                                     &s->nest_cfg), 0);
            for (unsigned i = 0; i < 8; i++)
                cr_assert_eq(vtd_pt_map(&s->nest_fs, (uint64_t)i << 12, (uint64_t)i << 12, 0x1000, 12, page_perm(i),
                                        VTD_MAP_AD), 0);
        }
        cr_assert_eq(world_pasid(&s->w, &s->ctx[d], 0, VTD_PGTT_SS, 4, 0, NULL, &s->ss[d], &s->ss_cfg[d]), 0);
        for (unsigned i = 0; i < 8; i++)
            cr_assert_eq(vtd_pt_map(&s->ss[d], (uint64_t)i << 12, UINT64_C(0x70000000) + ((uint64_t)i << 12), 0x1000,
                                    12, VTD_PERM_R | VTD_PERM_W, VTD_MAP_AD), 0);
    }
    vtd_iommu_set_root(s->io, s->w.rtaddr);
}

static void twins_setup(bool oracle)
{
    memset(&tw, 0, sizeof tw);
    tw.rng = UINT64_C(0x9e3779b97f4a7c15);
    tw.oracle = oracle;
    for (int k = 0; k < 2; k++)
        side_init(&tw.side[k], k == 0);
}

static void setup(void) { twins_setup(false); }
static void setup_oracle(void) { twins_setup(true); }

static void teardown(void)
{
    for (int k = 0; k < 2; k++) {
        if (!tw.side[k].io)
            continue;
        world_fini(&tw.side[k].w);
        vtd_iommu_free(tw.side[k].io);
        tw.side[k].io = NULL;
    }
}

/* ---- comparisons beyond dma_twins.h: the walk's own result and what each cache holds ---- */

static void expect_same_walk(const struct vtd_dma_result *a, const struct vtd_dma_result *b, unsigned op)
{
    cr_assert_eq(a->paging_reads, b->paging_reads, "op %u", op);
    if (a->source != VTD_SRC_PSC || a->x.fault.code || a->x.pgtt != VTD_PGTT_FS)
        return; /* the first stage's details are valid for a first-stage walk that succeeded */
    cr_assert_eq(a->x.fs.leaf_level, b->x.fs.leaf_level, "op %u", op);
    cr_assert_eq(a->x.fs.top_level, b->x.fs.top_level, "op %u", op);
    cr_assert_eq(a->x.fs.raw_perm, b->x.fs.raw_perm, "op %u", op);
    cr_assert_eq(a->x.fs.leaf_entry_addr, b->x.fs.leaf_entry_addr, "op %u", op);
    if (a->x.fs.leaf_level != 1)
        return; /* the slots below a large page's level are unspecified */
    cr_assert_eq(a->x.fs.table[1], b->x.fs.table[1], "op %u", op);
    cr_assert_eq(a->x.fs.perm_above[1], b->x.fs.perm_above[1], "op %u", op);
}

struct entry_list {
    unsigned n;
    const struct vtd_cache_entry *e[64];
};

static void collect(const struct vtd_cache_entry *e, void *arg)
{
    struct entry_list *l = arg;
    if (l->n < 64)
        l->e[l->n++] = e;
}

/* Same entries in the same ways, filled at the same steps in the same order, same payloads:
 * the replacement decisions (LRU order, victims) were the same. */
static void expect_same_contents(unsigned op)
{
    for (unsigned id = 0; id < VTD_C_NCACHES; id++) {
        const struct vtd_cache *c0 = vtd_iommu_cache(tw.side[0].io, id), *c1 = vtd_iommu_cache(tw.side[1].io, id);
        struct entry_list l0 = {0}, l1 = {0};
        vtd_cache_foreach(c0, collect, &l0);
        vtd_cache_foreach(c1, collect, &l1);
        cr_assert_eq(l0.n, l1.n, "op %u: %s holds %u vs %u", op, vtd_cache_name(c0), l0.n, l1.n);
        cr_assert_eq(vtd_cache_generation(c0), vtd_cache_generation(c1), "op %u: %s", op, vtd_cache_name(c0));
        for (unsigned i = 0; i < l0.n; i++) {
            cr_assert_eq(memcmp(&l0.e[i]->key, &l1.e[i]->key, sizeof l0.e[i]->key), 0, "op %u: %s entry %u", op,
                         vtd_cache_name(c0), i);
            cr_assert_eq(l0.e[i]->slot, l1.e[i]->slot, "op %u", op);
            cr_assert_eq(l0.e[i]->fill_seq, l1.e[i]->fill_seq, "op %u", op);
            cr_assert_eq(l0.e[i]->version, l1.e[i]->version, "op %u", op);
        }
    }
    const struct iotlb_payload *p0, *p1;
    struct entry_list l0 = {0}, l1 = {0};
    vtd_cache_foreach(vtd_iommu_cache(tw.side[0].io, VTD_C_IOTLB), collect, &l0);
    vtd_cache_foreach(vtd_iommu_cache(tw.side[1].io, VTD_C_IOTLB), collect, &l1);
    for (unsigned i = 0; i < l0.n; i++) {
        p0 = (const struct iotlb_payload *)l0.e[i]->payload;
        p1 = (const struct iotlb_payload *)l1.e[i]->payload;
        cr_assert_eq(memcmp(p0, p1, sizeof *p0), 0, "op %u: IOTLB payload %u", op, i);
    }
}

/* ---- the random mix ---- */

static unsigned psc_answers, declined_writes;

static struct vtd_request random_request(void)
{
    static const int64_t pasids[] = {1, 1, 3, 1, 3, 1, -1, NEST_PASID, 9 /* no entry */, 3};
    static const unsigned accesses[] = {VTD_ACC_R, VTD_ACC_R, VTD_ACC_R, VTD_ACC_W, VTD_ACC_X, VTD_ACC_R | VTD_ACC_W};
    uint64_t r = fm_rand();
    int64_t pasid = pasids[r % 10];
    unsigned where = (unsigned)((r >> 8) % 64), page = (unsigned)((r >> 16) % (2 * NPAGES + 8));
    uint64_t addr = where == 0   ? LARGE_VA + ((r >> 24) & 0x1ff000)
                    : where == 1 ? UINT64_C(0x0000800000000000) | ((uint64_t)page << 12) /* not canonical */
                                 : page_va(page);
    return (struct vtd_request){.sid = dev_sid[(r >> 40) & 1], .pasid_valid = pasid >= 0,
                                .pasid = pasid >= 0 ? (uint32_t)pasid : 0, .addr = addr | ((r >> 44) & 0xff8),
                                .access = accesses[(r >> 52) % 6], .priv = (r >> 56) & 1};
}

static void random_dma(unsigned op)
{
    struct vtd_request req = random_request();
    struct vtd_dma_result res[2];
    int rc[2];
    uint64_t before = vtd_iommu_fast_misses(tw.side[0].io);
    for (int k = 0; k < 2; k++) {
        vtd_iommu_set_step(tw.side[k].io, op);
        rc[k] = vtd_iommu_dma(tw.side[k].io, &req, &res[k]);
    }
    twins_expect_same_result(rc[0], &res[0], rc[1], &res[1], op);
    expect_same_walk(&res[0], &res[1], op);
    psc_answers += res[0].source == VTD_SRC_PSC;
    declined_writes += res[0].source == VTD_SRC_PSC && (req.access & VTD_ACC_W) &&
                       vtd_iommu_fast_misses(tw.side[0].io) == before;
}

/* A PTE of one side's first-stage tables, by device, PASID index and page. */
static uint64_t pte_addr_of(struct fm_side *s, unsigned d, unsigned p, unsigned i)
{
    uint64_t a = 0;
    if (vtd_pt_entry_addr(&s->fs[d][p], page_va(i), 1, &a))
        return 0;
    return a;
}

/* Change a mapping in both worlds without invalidating: remap, write-protect, unmap, or harvest
 * the A/D bits of a PTE (as dirty tracking does, clearing them in place). */
static void random_edit(void)
{
    uint64_t r = fm_rand();
    unsigned i = (unsigned)(r % (2 * NPAGES)), d = (r >> 8) & 1, p = (r >> 9) & 1;
    for (int k = 0; k < 2; k++) {
        struct fm_side *s = &tw.side[k];
        struct vtd_pt *pt = &s->fs[d][p];
        switch ((r >> 12) % 5) {
        case 0:
            vtd_pt_unmap(pt, page_va(i), 0x1000);
            map_fs_page(pt, i, UINT64_C(0xC0000000));
            break;
        case 1:
            vtd_pt_protect(pt, page_va(i), 0x1000, VTD_PERM_R | VTD_PERM_U);
            break;
        case 2:
            vtd_pt_unmap(pt, page_va(i), 0x1000);
            break;
        default: {
            uint64_t a = pte_addr_of(s, d, p, i), v;
            struct vtd_mem *m = vtd_iommu_mem(s->io);
            if (a && !vtd_mem_read64(m, a, &v) && (v & 1))
                cr_assert_eq(vtd_mem_write64(m, a, v & ~(uint64_t)((r >> 15) & 1 ? 0x40 : 0x60)), 0);
            break;
        }
        }
    }
}

/* One invalidation descriptor of a random type and granularity, the same on both sides. */
static void random_invalidation(void)
{
    uint64_t r = fm_rand();
    unsigned d = (r >> 8) & 1, p = (r >> 9) & 1;
    uint64_t did = tw.side[0].fs_cfg[d][p].did, pasid = fs_pasid[p];
    uint64_t addr = page_va((unsigned)((r >> 16) % (2 * NPAGES)));
    uint64_t q[4] = {0};
    switch (r % 10) {
    case 0: q[0] = VTD_QI_CC | (VTD_QI_CC_G_GLOBAL << 4); break;
    case 1: q[0] = VTD_QI_CC | (VTD_QI_CC_G_DOMAIN << 4) | did << 16; break;
    case 2: q[0] = VTD_QI_CC | (VTD_QI_CC_G_DEVICE << 4) | did << 16 | (uint64_t)dev_sid[d] << 32; break;
    case 3: q[0] = VTD_QI_IOTLB | (VTD_QI_IOTLB_G_GLOBAL << 4); break;
    case 4: q[0] = VTD_QI_IOTLB | (VTD_QI_IOTLB_G_DOMAIN << 4) | did << 16; break;
    case 5: q[0] = VTD_QI_PIOTLB | (VTD_QI_PIOTLB_G_PASID << 4) | did << 16 | pasid << 32; break;
    case 6: /* one page, or the 2 MiB region around it (AM 9) */
        q[0] = VTD_QI_PIOTLB | (VTD_QI_PIOTLB_G_PAGE << 4) | did << 16 | pasid << 32;
        q[1] = (r >> 30) & 1 ? (addr & ~UINT64_C(0x1fffff)) | 9 : addr;
        break;
    case 7: q[0] = VTD_QI_PC | (VTD_QI_PC_G_PASID << 4) | did << 16 | pasid << 32; break;
    case 8: q[0] = VTD_QI_PC | (VTD_QI_PC_G_DOMAIN << 4) | did << 16; break;
    default: q[0] = VTD_QI_PC | (VTD_QI_PC_G_GLOBAL << 4); break;
    }
    for (int k = 0; k < 2; k++) {
        struct vtd_qi_result qr;
        cr_assert_eq(vtd_qi_submit(tw.side[k].io, q, 4, &qr), 0, "%s", qr.why);
    }
}

static void random_mix(void)
{
    psc_answers = declined_writes = 0;
    const struct twins_mix mix = {.ops = OPS, .of = 100, .dma = 95, .edit = 3, .every = 500, .rand = fm_rand,
                                  .request = random_dma, .change = random_edit, .invalidate = random_invalidation,
                                  .check = expect_same_contents};
    twins_random_mix(tw.side[0].io, tw.side[1].io, &mix);
    /* The comparison means something only if the path answered most PSC-assisted requests. */
    uint64_t fast = vtd_iommu_fast_misses(tw.side[0].io);
    /* (Most of the others fault or set an A/D bit: the mix is made to reach every decline.) */
    cr_assert_gt(fast, 1000, "%llu of %u", (unsigned long long)fast, psc_answers);
    cr_assert_gt(fast, psc_answers / 5, "%llu of %u", (unsigned long long)fast, psc_answers);
    cr_assert_gt(declined_writes, 0, "some PSC-assisted writes took the general path");
    cr_assert_eq(vtd_iommu_fast_misses(tw.side[1].io), 0);
    if (tw.oracle) /* only the oracle tells a stale answer */
        cr_assert_gt(vtd_iommu_stats(tw.side[0].io)->stale, 0, "edits without invalidation must show stale answers");
}

TestSuite(fast_miss, .init = setup, .fini = teardown);
TestSuite(fast_miss_oracle, .init = setup_oracle, .fini = teardown);

Test(fast_miss, same_answers_counters_and_contents_as_the_general_path) { random_mix(); }

Test(fast_miss_oracle, same_answers_and_stale_reports_with_the_oracle) { random_mix(); }

/* ---- the declined cases, one by one ---- */

/* Both sides answer `req`; side 0 must not have used the path; all else equal. */
static void expect_general(const struct vtd_request *req, const char *why)
{
    uint64_t before = vtd_iommu_fast_misses(tw.side[0].io);
    struct vtd_dma_result res[2];
    int rc[2];
    for (int k = 0; k < 2; k++)
        rc[k] = vtd_iommu_dma(tw.side[k].io, req, &res[k]);
    cr_assert_eq(vtd_iommu_fast_misses(tw.side[0].io), before, "%s: declined", why);
    twins_expect_same_result(rc[0], &res[0], rc[1], &res[1], 0);
    expect_same_walk(&res[0], &res[1], 0);
    twins_expect_same_counters(tw.side[0].io, tw.side[1].io, 0);
    expect_same_contents(0);
}

/* Both sides answer `req` (side 0 through the path); all else equal. */
static struct vtd_dma_result expect_fast(const struct vtd_request *req)
{
    uint64_t before = vtd_iommu_fast_misses(tw.side[0].io);
    struct vtd_dma_result res[2];
    int rc[2];
    for (int k = 0; k < 2; k++)
        rc[k] = vtd_iommu_dma(tw.side[k].io, req, &res[k]);
    cr_assert_eq(vtd_iommu_fast_misses(tw.side[0].io), before + 1, "answered by the path");
    twins_expect_same_result(rc[0], &res[0], rc[1], &res[1], 0);
    expect_same_walk(&res[0], &res[1], 0);
    twins_expect_same_counters(tw.side[0].io, tw.side[1].io, 0);
    expect_same_contents(0);
    return res[0];
}

static struct vtd_request fs_req(unsigned page, unsigned access)
{
    return (struct vtd_request){.sid = dev_sid[0], .pasid_valid = true, .pasid = 1, .addr = page_va(page),
                                .access = access};
}

/* Warm the context, PASID and PDE caches with page 1's table: then page `page` misses the
 * IOTLB and resumes from the PDE entry. */
static void warm(void)
{
    struct vtd_request w = fs_req(1, VTD_ACC_R);
    struct vtd_dma_result res;
    for (int k = 0; k < 2; k++)
        cr_assert_eq(vtd_iommu_dma(tw.side[k].io, &w, &res), 0);
}

Test(fast_miss, a_clean_read_in_a_cached_table_is_one_read_from_the_pde)
{
    warm();
    struct vtd_request req = fs_req(3, VTD_ACC_R);
    struct vtd_dma_result res = expect_fast(&req);
    cr_assert_eq(res.source, VTD_SRC_PSC);
    cr_assert_eq(res.reads, 1);
    cr_assert_eq(res.x.out, page_out(3, UINT64_C(0x80000000)) | (req.addr & 0xfff));
    /* The fill it made answers the repeat. */
    struct vtd_dma_result again;
    cr_assert_eq(vtd_iommu_dma(tw.side[0].io, &req, &again), 0);
    cr_assert_eq(again.source, VTD_SRC_IOTLB);
}

Test(fast_miss, a_write_to_a_page_already_dirty_is_taken)
{
    warm();
    struct vtd_request req = fs_req(7, VTD_ACC_W); /* perms RWUX, A and D preset */
    struct vtd_dma_result res = expect_fast(&req);
    cr_assert(res.x.dirty);
}

Test(fast_miss, accessed_bit_to_set_declines)
{
    warm();
    struct vtd_request req = fs_req(4, VTD_ACC_R); /* page 4: no A/D preset */
    expect_general(&req, "A to set");
    uint64_t pte;
    cr_assert_eq(vtd_mem_read64(vtd_iommu_mem(tw.side[0].io), pte_addr_of(&tw.side[0], 0, 0, 4), &pte), 0);
    cr_assert(pte & 0x20, "the general path set A");
}

Test(fast_miss, dirty_bit_to_set_declines)
{
    warm();
    uint64_t a = pte_addr_of(&tw.side[0], 0, 0, 11), v;
    for (int k = 0; k < 2; k++) { /* harvest D of page 11 (RWUX) */
        struct vtd_mem *m = vtd_iommu_mem(tw.side[k].io);
        cr_assert_eq(vtd_mem_read64(m, a, &v), 0);
        cr_assert_eq(vtd_mem_write64(m, a, v & ~UINT64_C(0x40)), 0);
    }
    struct vtd_request req = fs_req(11, VTD_ACC_W);
    expect_general(&req, "D to set");
}

Test(fast_miss, faults_decline)
{
    warm();
    struct vtd_request ro = fs_req(5, VTD_ACC_W); /* page 5: read-only (R|U) */
    expect_general(&ro, "write fault");
    for (int k = 0; k < 2; k++)
        vtd_pt_unmap(&tw.side[k].fs[0][0], page_va(15), 0x1000);
    struct vtd_request np = fs_req(15, VTD_ACC_R);
    expect_general(&np, "not present");
    struct vtd_request intr = fs_req(INTR_PAGE, VTD_ACC_R);
    expect_general(&intr, "output in the interrupt range");
    struct vtd_request user = fs_req(6, VTD_ACC_R); /* page 6: RW, supervisor only */
    expect_general(&user, "user access to a supervisor page");
}

Test(fast_miss, other_translation_types_decline)
{
    warm();
    struct vtd_request nested = fs_req(3, VTD_ACC_R);
    nested.pasid = NEST_PASID;
    expect_general(&nested, "nested");
    expect_general(&nested, "nested, warm");
    struct vtd_request ss = fs_req(3, VTD_ACC_R);
    ss.pasid_valid = false;
    expect_general(&ss, "second stage only");
    expect_general(&ss, "second stage only, warm");
    struct vtd_request large = fs_req(0, VTD_ACC_R);
    large.addr = LARGE_VA + 0x3000;
    expect_general(&large, "2 MiB page");
    large.addr = LARGE_VA + 0x5000;
    expect_general(&large, "2 MiB page, PSC warm");
    struct vtd_request ats = fs_req(3, VTD_ACC_R);
    ats.kind = VTD_REQ_TRANSLATION;
    expect_general(&ats, "translation request");
    struct vtd_request bad = fs_req(3, VTD_ACC_R);
    bad.addr |= UINT64_C(0x0000800000000000);
    expect_general(&bad, "non-canonical");
}

Test(fast_miss, cold_caches_decline)
{
    struct vtd_request req = fs_req(3, VTD_ACC_R);
    expect_general(&req, "nothing cached");
    req.sid = dev_sid[1];
    warm(); /* device 0's PDE only */
    expect_general(&req, "another device's tables");
}

Test(fast_miss, trace_abort_ranges_and_dirty_cpu_lines_decline)
{
    warm();
    struct vtd_trace tr[2];
    for (int k = 0; k < 2; k++) {
        memset(&tr[k], 0, sizeof tr[k]);
        vtd_iommu_set_trace(tw.side[k].io, &tr[k]);
    }
    struct vtd_request req = fs_req(3, VTD_ACC_R);
    expect_general(&req, "trace attached");
    cr_assert_eq(tr[0].n, tr[1].n);
    cr_assert_gt(tr[0].n, 0);
    for (int k = 0; k < 2; k++)
        vtd_iommu_set_trace(tw.side[k].io, NULL);
    for (int k = 0; k < 2; k++)
        cr_assert_eq(vtd_mem_set_abort(vtd_iommu_mem(tw.side[k].io), UINT64_C(0xF0000000), 0x1000,
                                       VTD_MEM_ABORT_READ), 0);
    req = fs_req(7, VTD_ACC_R);
    expect_general(&req, "abort range");
    for (int k = 0; k < 2; k++) {
        struct vtd_mem *m = vtd_iommu_mem(tw.side[k].io);
        cr_assert_eq(vtd_mem_set_abort(m, UINT64_C(0xF0000000), 0x1000, 0), 0);
        cr_assert_eq(vtd_mem_set_cpu_cache(m, true), 0);
        cr_assert_eq(vtd_mem_write64(m, UINT64_C(0xF0000000), 1), 0);
        cr_assert_gt(vtd_mem_cpu_dirty(m), 0);
    }
    req = fs_req(13, VTD_ACC_R);
    expect_general(&req, "dirty CPU line");
    for (int k = 0; k < 2; k++)
        cr_assert_eq(vtd_mem_set_cpu_cache(vtd_iommu_mem(tw.side[k].io), false), 0);
    req = fs_req(17, VTD_ACC_R);
    expect_fast(&req);
}

/* ---- the requester memo: what the path remembers of the last requester must follow the
 * entries it came from ---- */

/* Rewrite device 0's PASID 1 entry on both sides and invalidate it in the PASID cache. */
static void rewrite_pasid_entry(bool sre)
{
    uint64_t q[4] = {VTD_QI_PC | (VTD_QI_PC_G_PASID << 4) | (uint64_t)tw.side[0].fs_cfg[0][0].did << 16 |
                     (uint64_t)fs_pasid[0] << 32};
    for (int k = 0; k < 2; k++) {
        struct fm_side *s = &tw.side[k];
        s->fs_cfg[0][0].sre = sre;
        cr_assert_eq(vtd_build_pasid_entry(&s->w.b, &s->ctx[0], fs_pasid[0], &s->fs_cfg[0][0]), 0);
        struct vtd_qi_result qr;
        cr_assert_eq(vtd_qi_submit(s->io, q, 4, &qr), 0, "%s", qr.why);
    }
}

Test(fast_miss, a_refilled_pasid_entry_is_checked_again)
{
    rewrite_pasid_entry(true);
    warm();
    struct vtd_request sup = fs_req(3, VTD_ACC_R);
    sup.priv = true;
    expect_fast(&sup); /* remembered: supervisor requests pass SRE */
    rewrite_pasid_entry(false);
    /* Another access refills the PASID-cache entry in the same way, with the same key. */
    struct vtd_request user = fs_req(2, VTD_ACC_W);
    expect_general(&user, "PASID entry not cached");
    sup.addr = page_va(5);
    expect_general(&sup, "SRE now clear: a fault");
    struct vtd_dma_result res;
    vtd_iommu_dma(tw.side[0].io, &sup, &res);
    cr_assert_eq(res.x.fault.code, VTD_FR_PASID_SRE);
}

Test(fast_miss, a_refilled_context_entry_is_checked_again)
{
    warm();
    struct vtd_request req = fs_req(3, VTD_ACC_R);
    expect_fast(&req); /* remembered: device 0 takes requests with PASID */
    uint64_t q[4] = {VTD_QI_CC | (VTD_QI_CC_G_DEVICE << 4) | (uint64_t)tw.side[0].fs_cfg[0][0].did << 16 |
                     (uint64_t)dev_sid[0] << 32};
    for (int k = 0; k < 2; k++) {
        struct fm_side *s = &tw.side[k];
        s->ctx[0].paside = false;
        cr_assert_eq(vtd_build_context(&s->w.b, s->w.rtaddr, dev_sid[0], &s->ctx[0]), 0);
        struct vtd_qi_result qr;
        cr_assert_eq(vtd_qi_submit(s->io, q, 4, &qr), 0, "%s", qr.why);
    }
    /* Another access refills the context-cache entry (and faults); the PASID entry stays. */
    struct vtd_request other = fs_req(2, VTD_ACC_W);
    expect_general(&other, "context entry not cached");
    req.addr = page_va(5);
    expect_general(&req, "PASIDE now clear: a fault");
    struct vtd_dma_result res;
    vtd_iommu_dma(tw.side[0].io, &req, &res);
    cr_assert_eq(res.x.fault.code, VTD_FR_CTX_PASIDE);
}

Test(fast_miss, a_reset_forgets_the_requester)
{
    warm();
    struct vtd_request req = fs_req(3, VTD_ACC_R);
    expect_fast(&req);
    for (int k = 0; k < 2; k++) {
        world_fini(&tw.side[k].w);
        vtd_iommu_reset(tw.side[k].io);
        side_tables(&tw.side[k]);
    }
    /* Device 1's entries now sit where device 0's were, with the same fill versions (the
     * caches' generations restarted); device 0 itself is cached nowhere. */
    struct vtd_request dev1 = fs_req(1, VTD_ACC_R);
    dev1.sid = dev_sid[1];
    expect_general(&dev1, "cold caches");
    req.addr = page_va(5);
    expect_general(&req, "device 0 not cached after the reset");
}

Test(fast_miss, a_request_without_pasid_is_not_the_pasid_requester)
{
    warm();
    struct vtd_request req = fs_req(3, VTD_ACC_R);
    expect_fast(&req); /* remembered: device 0, PASID 1 */
    /* The same fields, PASID 1 included, but not PASID-valid: the PASID field is not looked at,
     * RID_PASID's second-stage entry translates. */
    req.addr = page_va(5);
    req.pasid_valid = false;
    expect_general(&req, "request without PASID");
}
