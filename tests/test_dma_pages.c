/*
 * test_dma_pages.c: vtd_iommu_dma_pages (a run of consecutive pages in one call, what the
 * scenario runner uses for a dma step without expectations) answers exactly as one
 * vtd_iommu_dma call per page. Two identical IOMMUs replay the same random runs (1 to 9 pages
 * from any offset, with and without PASID, reads and writes, some past the mapped pages, some
 * from a device with a device TLB), table edits without invalidation and invalidations, oracle
 * off and on: side 0 in runs, side 1 page by page. The last page's answer, every fault the
 * listener hears (in order), the walk trace of traced runs, the stale counts and every counter
 * must be the same.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "sim/qi_desc.h"
#include "dma_twins.h"

#define SID_A vtd_sid(0, 3, 0)
#define SID_ATS vtd_sid(0, 4, 0)
#define PASID 1
#define NPAGES 24
#define MAX_RUN 9
#define MAX_FAULTS 4096

static struct twin_side sides[2]; /* [0]: runs of pages, [1]: page by page */
static uint64_t rng;

/* What each side's fault listener heard: the request's address and the fault code, in order. */
struct heard {
    unsigned n;
    uint64_t addr[MAX_FAULTS];
    int code[MAX_FAULTS];
};
static struct heard heard[2];

static uint64_t next_rand(void) { return twins_rand(&rng); }

static void listen(void *arg, const struct vtd_request *req, const struct vtd_xlate *x)
{
    struct heard *h = arg;
    cr_assert_lt(h->n, MAX_FAULTS, "more faults than the test keeps");
    h->addr[h->n] = req->addr;
    h->code[h->n++] = x->fault.code;
}

static void side_init(struct twin_side *s, struct heard *h, bool oracle)
{
    struct vtd_iommu_config c;
    vtd_iommu_config_default(&c);
    c.oracle = oracle;
    twins_two_devices_init(s, &c, SID_A, SID_ATS, PASID);
    for (int d = 0; d < 2; d++)
        for (unsigned i = 0; i < NPAGES; i++) {
            /* Read-only or writable, without A/D on every third page (a write walks to set D). */
            unsigned perm = VTD_PERM_R | VTD_PERM_U | (i % 2 ? VTD_PERM_W : 0);
            unsigned flags = i % 3 ? VTD_MAP_AD : 0;
            uint64_t va = (uint64_t)i << 12, pa = UINT64_C(0x80000000) + va;
            cr_assert_eq(vtd_pt_map(&s->fs[d], va, pa, 0x1000, 12, perm, flags), 0);
            cr_assert_eq(vtd_pt_map(&s->ss[d], va, pa, 0x1000, 12, perm & ~VTD_PERM_U, flags), 0);
        }
    memset(h, 0, sizeof *h);
    vtd_iommu_set_fault_listener(s->io, listen, h);
}

static void setup_with(bool oracle)
{
    rng = UINT64_C(0x2545f4914f6cdd1d);
    for (int k = 0; k < 2; k++)
        side_init(&sides[k], &heard[k], oracle);
}

static void setup_oracle_off(void) { setup_with(false); }
static void setup_oracle_on(void) { setup_with(true); }
static void teardown(void) { twins_fini(sides); }

static void expect_same_traces(const struct vtd_trace *a, const struct vtd_trace *b, unsigned op)
{
    cr_assert_eq(a->n, b->n, "op %u: %u vs %u trace records", op, a->n, b->n);
    cr_assert_eq(a->dropped, b->dropped, "op %u", op);
    for (unsigned i = 0; i < a->n; i++) {
        cr_assert_eq(a->rec[i].kind, b->rec[i].kind, "op %u record %u", op, i);
        cr_assert_eq(a->rec[i].write, b->rec[i].write, "op %u record %u", op, i);
        cr_assert_eq(a->rec[i].addr, b->rec[i].addr, "op %u record %u", op, i);
        cr_assert_eq(a->rec[i].val, b->rec[i].val, "op %u record %u", op, i);
    }
}

/* One run of `n` pages from `req`: side 0 in one call, side 1 a call per page. */
static void same_run(const struct vtd_request *req, uint64_t n, bool traced, unsigned op)
{
    static struct vtd_trace trace[2];
    struct vtd_dma_result res[2];
    int rc[2];
    for (int k = 0; k < 2; k++) {
        vtd_iommu_set_step(sides[k].io, op);
        memset(&trace[k], 0, sizeof trace[k]);
        if (traced)
            vtd_iommu_set_trace(sides[k].io, &trace[k]);
    }
    rc[0] = vtd_iommu_dma_pages(sides[0].io, req, n, &res[0]);
    struct vtd_request page = *req;
    for (uint64_t i = 0; i < n; i++) {
        rc[1] = vtd_iommu_dma(sides[1].io, &page, &res[1]);
        page.addr = (page.addr & ~UINT64_C(0xfff)) + 0x1000;
    }
    for (int k = 0; k < 2; k++)
        vtd_iommu_set_trace(sides[k].io, NULL);
    twins_expect_same_result(rc[0], &res[0], rc[1], &res[1], op);
    cr_assert_eq(res[0].paging_reads, res[1].paging_reads, "op %u", op);
    expect_same_traces(&trace[0], &trace[1], op);
    cr_assert_eq(heard[0].n, heard[1].n, "op %u: %u vs %u faults heard", op, heard[0].n, heard[1].n);
    for (unsigned i = 0; i < heard[0].n; i++) {
        cr_assert_eq(heard[0].addr[i], heard[1].addr[i], "op %u fault %u", op, i);
        cr_assert_eq(heard[0].code[i], heard[1].code[i], "op %u fault %u", op, i);
    }
    heard[0].n = heard[1].n = 0;
}

static void random_run(unsigned op)
{
    uint64_t r = next_rand();
    bool pasid = (r & 3) != 0;
    /* Mostly inside the mapped pages; a run may go past them (faults) or start past them. */
    uint64_t first = (r >> 4) % (NPAGES + 2), n = 1 + (r >> 12) % MAX_RUN;
    struct vtd_request req = {.sid = (r >> 20) % 8 ? SID_A : SID_ATS, .pasid_valid = pasid,
                              .pasid = pasid ? PASID : 0, .addr = first << 12 | ((r >> 24) & 0xff8),
                              .access = (r >> 40) % 4 ? VTD_ACC_R : VTD_ACC_W};
    same_run(&req, n, (r >> 50) % 16 == 0, op);
}

/* Edit a page in both worlds without invalidating: remap, write-protect or unmap. */
static void random_edit(void)
{
    uint64_t r = next_rand();
    bool ss = (r >> 8) & 1;
    unsigned t = (r >> 9) & 1;
    struct vtd_pt *pt[2] = {ss ? &sides[0].ss[t] : &sides[0].fs[t], ss ? &sides[1].ss[t] : &sides[1].fs[t]};
    twins_edit_page(pt, (r % NPAGES) << 12, ss ? 0 : VTD_PERM_U, r >> 12);
}

static void random_invalidation(void)
{
    uint64_t r = next_rand();
    twins_invalidate_some(sides, r, sides[0].fs_cfg[0].did, PASID, ((r >> 16) % NPAGES) << 12);
}

static void random_mix(void)
{
    const struct twins_mix mix = {.ops = 6000, .of = 100, .dma = 94, .edit = 3, .every = 250, .rand = next_rand,
                                  .request = random_run, .change = random_edit, .invalidate = random_invalidation};
    twins_random_mix(sides[0].io, sides[1].io, &mix);
    twins_expect_same_devtlb_stats(sides, SID_ATS);
    cr_assert_eq(vtd_iommu_fast_hits(sides[0].io), vtd_iommu_fast_hits(sides[1].io));
    cr_assert_eq(vtd_iommu_fast_misses(sides[0].io), vtd_iommu_fast_misses(sides[1].io));
    /* The mix reaches what it is meant to: runs that fault, hits answered whole, misses resumed. */
    const struct vtd_iommu_stats *st = vtd_iommu_stats(sides[0].io);
    cr_assert_gt(st->requests, 20000);
    cr_assert_gt(st->faults, 100);
    cr_assert_gt(vtd_iommu_fast_hits(sides[0].io), 1000);
    cr_assert_gt(vtd_iommu_fast_misses(sides[0].io), 100);
}

TestSuite(dma_pages, .init = setup_oracle_off, .fini = teardown);
TestSuite(dma_pages_oracle, .init = setup_oracle_on, .fini = teardown);

Test(dma_pages, same_answers_faults_traces_and_counters_with_the_oracle_off) { random_mix(); }

Test(dma_pages_oracle, same_answers_stale_reports_and_counters_with_the_oracle_on)
{
    random_mix();
    cr_assert_gt(vtd_iommu_stats(sides[0].io)->stale, 0, "edits without invalidation must show stale answers");
}

/* A run that wraps past the top of the address space goes on from page 0, as the runner's
 * per-page loop does. */
Test(dma_pages, a_run_wraps_at_the_top_of_the_address_space)
{
    struct vtd_request req = {.sid = SID_A, .addr = UINT64_C(0xfffffffffffff010), .access = VTD_ACC_R};
    struct vtd_dma_result res;
    vtd_iommu_dma_pages(sides[0].io, &req, 3, &res);
    cr_assert_eq(vtd_iommu_stats(sides[0].io)->requests, 3);
    cr_assert_eq(res.x.fault.code, 0, "page 1 of the second-stage space is mapped");
    cr_assert_eq(res.x.out, UINT64_C(0x80001000));
    cr_assert_eq(heard[0].n, 1, "only the first page faults");
    cr_assert_eq(heard[0].addr[0], req.addr);
}
