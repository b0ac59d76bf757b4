/*
 * bench_dirty.c: the cost of dirty tracking. Harvesting (read and clear D) a second-stage table
 * mapping 1 GiB, 64 GiB (4 KiB pages) and 1 TiB (2 MiB pages) with 1% of the pages dirty,
 * against a plain linear read of the same leaf entries in the same run; and a DMA write with
 * SSADE on against SSADE off, IOTLB hit and miss (oracle off: the hardware path).
 *
 * Targets (docs/performance.md): harvest within 3x of the linear read; a write with tracking on
 * within 10% of tracking off.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "walker/harvest.h"
#include "sim/iommu.h"
#include "walker/builder.h"
#include "walker/ss_entry.h"
#include "world.h"

#define RUNS 5
#define POOL_BASE (UINT64_C(1) << 32)
#define OUT_BASE (UINT64_C(1) << 40)

/* ---- harvest ---- */

struct table_set {
    uint64_t root;
    unsigned levels;
    uint64_t *leaf_tables; /* the tables holding the leaves, in address order */
    size_t n, cap;
};

/* Every table whose entries are leaves (level `leaf_level`), found once, untimed. */
static void find_leaf_tables(struct vtd_mem *m, struct table_set *t, uint64_t table, unsigned level,
                             unsigned leaf_level)
{
    if (level == leaf_level) {
        if (t->n == t->cap) {
            t->cap = t->cap ? 2 * t->cap : 1024;
            t->leaf_tables = realloc(t->leaf_tables, t->cap * sizeof *t->leaf_tables);
        }
        t->leaf_tables[t->n++] = table;
        return;
    }
    uint64_t e[512];
    if (vtd_mem_read(m, table, e, sizeof e))
        return;
    for (unsigned i = 0; i < 512; i++)
        if (e[i] & (VTD_SS_R | VTD_SS_W))
            find_leaf_tables(m, t, e[i] & VTD_SS_ADDR, level - 1, leaf_level);
}

/* The plain read: every leaf entry, table page by table page, folded so nothing is skipped. */
static uint64_t linear_read(struct vtd_mem *m, const struct table_set *t)
{
    uint64_t e[512], acc = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (vtd_mem_read(m, t->leaf_tables[i], e, sizeof e))
            continue;
        for (unsigned j = 0; j < 512; j++)
            acc += e[j];
    }
    return acc;
}

/* Mark every 100th leaf dirty (D and A set), as the device would have. */
static void make_dirty(struct vtd_mem *m, const struct table_set *t)
{
    uint64_t k = 0;
    for (size_t i = 0; i < t->n; i++)
        for (unsigned j = 0; j < 512; j++, k++)
            if (k % 100 == 0) {
                uint64_t a = t->leaf_tables[i] + 8 * (uint64_t)j, e;
                if (!vtd_mem_read64(m, a, &e))
                    vtd_mem_write64(m, a, e | VTD_SS_A | VTD_SS_D);
            }
}

static void count_dirty(void *arg, uint64_t iova, uint64_t size)
{
    (void)iova;
    *(uint64_t *)arg += size;
}

/* The builder bounds the leaves of one call (VTD_PT_MAX_LEAVES): map 1 GiB at a time. */
static int map_in_chunks(struct vtd_pt *pt, uint64_t bytes, unsigned shift)
{
    const uint64_t chunk = UINT64_C(1) << 30;
    for (uint64_t off = 0; off < bytes; off += chunk) {
        int rc = vtd_pt_map(pt, off, OUT_BASE + off, bytes - off < chunk ? bytes - off : chunk, shift,
                            VTD_PERM_R | VTD_PERM_W, 0);
        if (rc)
            return rc;
    }
    return 0;
}

static void bench_harvest(const char *name, uint64_t bytes, unsigned shift, struct bench_row *harvest,
                          struct bench_row *plain)
{
    *harvest = (struct bench_row){.name = name};
    *plain = (struct bench_row){.name = "  linear read of the same leaves"};
    struct vtd_caps caps;
    vtd_caps_default(&caps);
    struct vtd_mem *m = vtd_mem_new(caps.haw);
    struct vtd_builder b;
    struct vtd_pt pt;
    uint64_t leaves = bytes >> shift;
    /* Tables: one 4 KiB page per 512 leaves, plus the levels above. */
    uint64_t pool = (leaves / 512 + 64) * 4096 * 2;
    if (!m || vtd_builder_init(&b, m, &caps, POOL_BASE, pool) || vtd_pt_init(&pt, &b, VTD_PT_SS, 4, NULL, 0, 0) ||
        map_in_chunks(&pt, bytes, shift)) {
        fprintf(stderr, "%s: setup failed\n", name);
        vtd_mem_free(m);
        return;
    }
    struct table_set t = {.root = pt.root, .levels = 4};
    find_leaf_tables(m, &t, pt.root, 4, shift == 12 ? 1 : 2);
    double hs[RUNS], ps[RUNS];
    for (int run = 0; run < RUNS; run++) {
        make_dirty(m, &t);
        double t0 = bench_now_ns();
        bench_sink += linear_read(m, &t);
        double t1 = bench_now_ns();
        uint64_t found = 0;
        struct vtd_harvest_stats st;
        vtd_ss_harvest(m, pt.root, 4, 0, bytes, true, count_dirty, &found, &st);
        double t2 = bench_now_ns();
        bench_sink += found + st.dirty;
        ps[run] = (t1 - t0) / (double)leaves;
        hs[run] = (t2 - t1) / (double)leaves;
    }
    harvest->ns = bench_median(hs, RUNS);
    harvest->mops = 1e3 / harvest->ns;
    plain->ns = bench_median(ps, RUNS);
    plain->mops = 1e3 / plain->ns;
    free(t.leaf_tables);
    vtd_mem_free(m);
}

/* ---- a DMA write with tracking on and off ---- */

#define SID 0x0018

static struct bench_row bench_write(const char *name, bool ssade, bool miss, long iters)
{
    struct bench_row r = {.name = name};
    struct vtd_iommu_config cfg;
    vtd_iommu_config_default(&cfg);
    cfg.oracle = false;
    struct vtd_iommu *io = vtd_iommu_new(&cfg, NULL);
    struct world w;
    struct vtd_ctx ctx;
    struct vtd_pt ss;
    struct vtd_pasid_cfg pc;
    struct vtd_device_config dc = {.sid = SID, .pasid_bits = 20};
    if (!io || world_init_mem(&w, vtd_iommu_caps(io), vtd_iommu_mem(io)) || world_device(&w, SID, &ctx) ||
        world_pasid(&w, &ctx, 0, VTD_PGTT_SS, 4, 4, NULL, &ss, &pc) || vtd_iommu_add_device(io, &dc)) {
        fprintf(stderr, "%s: setup failed\n", name);
        vtd_iommu_free(io);
        return r;
    }
    pc.ssade = ssade;
    pc.pwsnp = true;
    vtd_build_pasid_entry(&w.b, &ctx, 0, &pc);
    vtd_iommu_set_root(io, w.rtaddr);
    /* Hit: 64 pages, all in the IOTLB. Miss: 4096 pages strided over sets, more than it holds. */
    unsigned npages = miss ? 4096 : 64;
    vtd_pt_map(&ss, 0, UINT64_C(0x80000000), (uint64_t)npages << 12, 12, VTD_PERM_R | VTD_PERM_W, 0);
    struct vtd_request req = {.sid = SID, .access = VTD_ACC_W};
    struct vtd_dma_result res;
    double samples[RUNS];
    uint64_t reads = 0;
    for (int run = 0; run < RUNS; run++) {
        double t0 = bench_now_ns();
        for (long i = 0; i < iters; i++) {
            req.addr = ((uint64_t)(i & (npages - 1)) << 12) | 0x40;
            vtd_iommu_dma(io, &req, &res);
            bench_sink += res.x.out;
            reads += res.paging_reads;
        }
        samples[run] = (bench_now_ns() - t0) / (double)iters;
    }
    r.ns = bench_median(samples, RUNS);
    r.mops = 1e3 / r.ns;
    r.reads = (double)reads / (double)(iters * RUNS);
    world_fini(&w);
    vtd_iommu_free(io);
    return r;
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    if (!bench_parse_args(argc, argv, "bench_dirty", &o))
        return 2;
    static const struct harvest_case {
        const char *name;
        uint64_t bytes;
        unsigned shift;
    } hcases[] = {
        {"harvest 1 GiB, 4 KiB pages, 1% dirty (per leaf)", UINT64_C(1) << 30, 12},
        {"harvest 64 GiB, 4 KiB pages, 1% dirty (per leaf)", UINT64_C(64) << 30, 12},
        {"harvest 1 TiB, 2 MiB pages, 1% dirty (per leaf)", UINT64_C(1) << 40, 21},
    };
    static const struct write_case {
        const char *name;
        bool ssade, miss;
    } wcases[] = {
        {"write, iotlb hit, tracking off", false, false},
        {"write, iotlb hit, tracking on", true, false},
        {"write, iotlb miss, tracking off", false, true},
        {"write, iotlb miss, tracking on", true, true},
    };
    enum { NH = 3, NW = 4 };
    struct bench_row rows[2 * NH + NW];
    int n = 0;
    for (int i = 0; i < NH; i++) {
        bool quick_skip = o.quick && hcases[i].bytes > (UINT64_C(1) << 30);
        if (!bench_selected(&o, hcases[i].name) || quick_skip) {
            rows[n++] = (struct bench_row){.name = hcases[i].name, .skipped = true};
            rows[n++] = (struct bench_row){.name = "  linear read of the same leaves", .skipped = true};
            continue;
        }
        bench_harvest(hcases[i].name, hcases[i].bytes, hcases[i].shift, &rows[n], &rows[n + 1]);
        n += 2;
    }
    long iters = o.quick ? 100000 : 1000000;
    for (int i = 0; i < NW; i++)
        rows[n++] = bench_selected(&o, wcases[i].name)
                        ? bench_write(wcases[i].name, wcases[i].ssade, wcases[i].miss, wcases[i].miss ? iters / 4 : iters)
                        : (struct bench_row){.name = wcases[i].name, .skipped = true};
    bench_report(rows, n, &o);
    printf("\n");
    for (int i = 0; i < NH; i++)
        if (!rows[2 * i].skipped && rows[2 * i + 1].ns > 0)
            printf("%s: %.2fx the linear read (target <= 3x)\n", hcases[i].name, rows[2 * i].ns / rows[2 * i + 1].ns);
    for (int i = 0; i < NW; i += 2)
        if (!rows[2 * NH + i].skipped && !rows[2 * NH + i + 1].skipped && rows[2 * NH + i].ns > 0)
            printf("%s: tracking on costs %+.1f%% (target <= +10%%)\n", wcases[i + 1].name,
                   100.0 * (rows[2 * NH + i + 1].ns / rows[2 * NH + i].ns - 1.0));
    return 0;
}
