/*
 * bench_spaces.c: whether trace replay stays flat in the number of address spaces. For each N it
 * replays, through trace/replay.c, N PASIDs of one 4 KiB page each and one PASID of N pages,
 * both round-robin so that every translation misses the IOTLB (and, with the paging-structure
 * caches off, walks all four levels), and prints ns per translation for both and their ratio,
 * with the time to build the N spaces. Target: the ratio within 1.5 at every N.
 *
 * A second sweep asks the IOMMU directly (no trace replay), so that N can reach 2^20 PASIDs on a
 * machine without 20 GiB for four table pages a space: each PASID's first-stage root is a
 * page of its own, but its one entry points to upper tables every PASID shares (built once by
 * PASID 1's mapping). Each translation still misses the PASID cache and the IOTLB, reads its
 * own PASID-directory entry, PASID entry and root, and walks all four levels, as in the replay;
 * what it no longer measures is the host's data caches missing on the lower tables.
 *
 * Options: those of every benchmark, --n N (repeatable) for both sweeps, --runs R (1-5) timed
 * rounds. --only "N PASIDs" or --only "one space" runs one replay shape alone (no ratio), for a
 * profiler; --only "direct: PASIDs" and --only "direct: space" do the same for the direct
 * sweep, and --only "direct" runs the direct sweep alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "trace/replay.h"
#include "world.h"

#define SID 0x0100
#define RUNS 5 /* timed rounds of each shape; --runs sets fewer (callgrind at N = 2^20) */
#define MAX_SWEEP 8
/* Guest output pages start here (below the replay's own pool). */
#define OUT_BASE UINT64_C(0x1000000000)

enum shape { MANY_PASIDS, ONE_SPACE };

/* Event i of a shape: N PASIDs (1..N) with page 0 each, or PASID 1 with pages 0..N-1. PASID 0
 * with the PASID flag would be RID_PASID's space, so PASIDs start at 1 and spill onto the next
 * source-id past the 20-bit range. */
static struct vtrace_event event_of(enum shape sh, enum vtrace_kind kind, uint64_t i)
{
    const uint64_t per_sid = (UINT64_C(1) << 20) - 1;
    struct vtrace_event e = {.kind = (uint8_t)kind, .access = VTRACE_ACC_R, .flags = VTRACE_F_PASID, .sid = SID,
                             .pasid = 1, .size = 0x1000};
    if (sh == MANY_PASIDS) {
        e.sid = (uint16_t)(SID + i / per_sid);
        e.pasid = (uint32_t)(1 + i % per_sid);
    } else {
        e.addr = i << 12;
    }
    if (kind == VTRACE_MAP) {
        e.access = VTRACE_ACC_R | VTRACE_ACC_W;
        e.page_shift = 12;
        e.out = OUT_BASE + (i << 12);
    }
    return e;
}

struct sweep_row {
    uint64_t n;
    double ns[2], build_ms[2], reads[2];
    bool ok;
};

/* Timed rounds of each shape (--runs); the benchmark program's own setting. */
static int runs = RUNS;

/* Replay the maps (timed as the build), then whole round-robin passes of DMA. */
static bool run_shape(enum shape sh, uint64_t n, long translations, double *ns, double *build_ms, double *reads)
{
    struct vtrace_replay_config cfg;
    vtrace_replay_config_default(&cfg);
    cfg.mode = VTRACE_MODE_FS;
    cfg.max_host_bytes = UINT64_C(64) << 30;
    cfg.iommu.cache[VTD_C_PSC_FS] = cfg.iommu.cache[VTD_C_PSC_SS] = (struct vtd_cache_geometry){0};
    char err[VTRACE_ERR_LEN];
    struct vtrace_replay *rp = vtrace_replay_new(&cfg, err);
    struct vtrace_event *ev = malloc(n * sizeof(*ev));
    bool ok = rp && ev;
    if (ok) {
        for (uint64_t i = 0; i < n; i++)
            ev[i] = event_of(sh, VTRACE_MAP, i);
        double t0 = bench_now_ns();
        ok = !vtrace_replay_events(rp, ev, (long)n, 0, err);
        *build_ms = (bench_now_ns() - t0) * 1e-6;
    }
    for (uint64_t i = 0; ok && i < n; i++)
        ev[i] = event_of(sh, VTRACE_DMA, i);
    long passes = (long)((uint64_t)translations / n + 1);
    double samples[RUNS] = {0};
    struct vtrace_replay_result before, after;
    if (ok)
        vtrace_replay_result(rp, &before);
    for (int run = 0; ok && run < runs; run++) {
        double t0 = bench_now_ns();
        for (long p = 0; ok && p < passes; p++)
            ok = !vtrace_replay_events(rp, ev, (long)n, n * (uint64_t)(1 + run * passes + p), err);
        samples[run] = (bench_now_ns() - t0) / ((double)passes * (double)n);
    }
    if (ok) {
        vtrace_replay_result(rp, &after);
        *ns = bench_median(samples, runs);
        *reads = (double)(after.reads - before.reads) / (double)(after.translations - before.translations);
    } else {
        fprintf(stderr, "bench_spaces: N = %llu: %s\n", (unsigned long long)n, rp ? err : "out of memory");
    }
    free(ev);
    vtrace_replay_free(rp);
    return ok;
}

/* ---- the direct sweep ------------------------------------------------------------------ */

/* Per-PASID roots come from here, far above the world's pool (2^20 roots are 4 GiB). */
#define ROOTS_BASE (UINT64_C(1) << 40)
#define PER_SID ((UINT64_C(1) << 20) - 1)
#define MAX_SIDS 4
#define FS_PERM (VTD_PERM_R | VTD_PERM_W | VTD_PERM_U)

struct direct {
    struct vtd_iommu *io;
    struct world w;
    struct vtd_ctx ctx[MAX_SIDS];
    unsigned nsid;
};

/* PASID `pasid` of ctx with first-stage root `root`: DIDs cycle over 1..65535 (first-stage
 * entries are tagged by DID and PASID, so sharing a DID shares nothing). */
static int direct_pasid(struct direct *d, unsigned s, uint32_t pasid, uint64_t root)
{
    struct vtd_pasid_cfg pc;
    vtd_pasid_cfg_init(&pc, VTD_PGTT_FS, (uint16_t)(1 + pasid % 65535));
    pc.fs_levels = 4;
    pc.fsptptr = root;
    return vtd_build_pasid_entry(&d->w.b, &d->ctx[s], pasid, &pc);
}

/* The N spaces: PASID 1 maps its pages (one, or all N) with the builder; the other PASIDs of
 * the MANY_PASIDS shape get a root of their own holding PASID 1's root entry. */
static int direct_build(struct direct *d, enum shape sh, uint64_t n)
{
    struct vtd_pt fs;
    int rc = vtd_pt_init(&fs, &d->w.b, VTD_PT_FS, 4, NULL, 0, 0);
    rc = rc ? rc : direct_pasid(d, 0, 1, fs.root);
    uint64_t pages = sh == ONE_SPACE ? n : 1;
    for (uint64_t i = 0; !rc && i < pages; i += VTD_PT_MAX_LEAVES) {
        uint64_t len = pages - i < VTD_PT_MAX_LEAVES ? pages - i : VTD_PT_MAX_LEAVES;
        rc = vtd_pt_map(&fs, i << 12, OUT_BASE + (i << 12), len << 12, 12, FS_PERM, VTD_MAP_AD);
    }
    uint64_t top = 0;
    rc = rc ? rc : vtd_mem_read64(d->w.mem, fs.root, &top);
    if (!rc && sh == MANY_PASIDS) {
        d->w.b.pool_next = ROOTS_BASE;
        d->w.b.pool_end = ROOTS_BASE + ((n + n / 32 + 1024) << 12); /* roots and PASID tables */
    }
    for (uint64_t i = 1; !rc && sh == MANY_PASIDS && i < n; i++) {
        uint64_t root;
        rc = vtd_builder_alloc_page(&d->w.b, &root);
        rc = rc ? rc : vtd_mem_write64(d->w.mem, root, top);
        rc = rc ? rc : direct_pasid(d, (unsigned)(i / PER_SID), (uint32_t)(1 + i % PER_SID), root);
    }
    return rc;
}

static bool direct_setup(struct direct *d, enum shape sh, uint64_t n, double *build_ms)
{
    struct vtd_iommu_config cfg;
    vtd_iommu_config_default(&cfg);
    /* As the replay configures it (vtrace_replay_config_default), paging-structure caches off. */
    cfg.oracle = cfg.oracle_groups = cfg.ordering_checks = false;
    cfg.cache[VTD_C_PSC_FS] = cfg.cache[VTD_C_PSC_SS] = (struct vtd_cache_geometry){0};
    memset(d, 0, sizeof(*d));
    d->nsid = sh == MANY_PASIDS ? (unsigned)((n + PER_SID - 1) / PER_SID) : 1;
    if (d->nsid > MAX_SIDS || !(d->io = vtd_iommu_new(&cfg, NULL)))
        return false;
    if (world_init_mem(&d->w, vtd_iommu_caps(d->io), vtd_iommu_mem(d->io)))
        return false;
    double t0 = bench_now_ns();
    int rc = 0;
    for (unsigned s = 0; !rc && s < d->nsid; s++) {
        struct vtd_device_config dc = {.sid = (uint16_t)(SID + s), .pasid_bits = 20};
        rc = world_device(&d->w, dc.sid, &d->ctx[s]);
        rc = rc ? rc : vtd_iommu_add_device(d->io, &dc);
    }
    vtd_iommu_set_root(d->io, d->w.rtaddr);
    rc = rc ? rc : direct_build(d, sh, n);
    *build_ms = (bench_now_ns() - t0) * 1e-6;
    if (rc)
        fprintf(stderr, "bench_spaces: direct, N = %llu: setup failed (%d)\n", (unsigned long long)n, rc);
    return !rc;
}

/* One round-robin pass over the N spaces (or N pages); the structure reads it made. A function
 * of its own so that callgrind can count it alone (--toggle-collect=direct_pass). */
__attribute__((noinline)) static uint64_t direct_pass(struct vtd_iommu *io, enum shape sh, uint64_t n)
{
    uint64_t reads = 0;
    for (uint64_t i = 0; i < n; i++) {
        struct vtd_request req = {.sid = SID, .pasid_valid = true, .pasid = 1, .access = VTD_ACC_R};
        if (sh == MANY_PASIDS) {
            req.sid = (uint16_t)(SID + i / PER_SID);
            req.pasid = (uint32_t)(1 + i % PER_SID);
        } else {
            req.addr = i << 12;
        }
        struct vtd_dma_result res;
        vtd_iommu_dma(io, &req, &res);
        bench_sink += res.x.out;
        reads += res.reads;
    }
    return reads;
}

static bool direct_shape(enum shape sh, uint64_t n, long translations, double *ns, double *build_ms, double *reads)
{
    struct direct d;
    bool ok = direct_setup(&d, sh, n, build_ms);
    long passes = (long)((uint64_t)translations / n + 1);
    double samples[RUNS] = {0};
    uint64_t nreads = 0;
    for (int run = 0; ok && run < runs; run++) {
        double t0 = bench_now_ns();
        for (long p = 0; p < passes; p++)
            nreads += direct_pass(d.io, sh, n);
        samples[run] = (bench_now_ns() - t0) / ((double)passes * (double)n);
    }
    if (ok) {
        *ns = bench_median(samples, runs);
        *reads = (double)nreads / ((double)runs * (double)passes * (double)n);
        ok = vtd_iommu_stats(d.io)->faults == 0;
        if (!ok)
            fprintf(stderr, "bench_spaces: direct, N = %llu: translations faulted\n", (unsigned long long)n);
    }
    if (d.io)
        world_fini(&d.w);
    vtd_iommu_free(d.io);
    return ok;
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    uint64_t sweep[MAX_SWEEP];
    int nsweep = 0;
    /* Take --n out before the common options. */
    int keep = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc && nsweep < MAX_SWEEP)
            sweep[nsweep++] = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc && atoi(argv[i + 1]) >= 1 && atoi(argv[i + 1]) <= RUNS)
            runs = atoi(argv[++i]);
        else
            argv[keep++] = argv[i];
    }
    if (!bench_parse_args(keep, argv, "bench_spaces", &o))
        return 2;
    uint64_t direct[MAX_SWEEP];
    int ndirect = nsweep;
    memcpy(direct, sweep, (size_t)nsweep * sizeof(*sweep));
    if (!nsweep) {
        static const uint64_t quick[] = {1024}, full[] = {8192, 32768, 131072}, full_direct[] = {8192, 131072, 1048576};
        const uint64_t *d = o.quick ? quick : full;
        nsweep = ndirect = o.quick ? 1 : 3;
        memcpy(sweep, d, (size_t)nsweep * sizeof(*d));
        memcpy(direct, o.quick ? quick : full_direct, (size_t)ndirect * sizeof(*d));
    }
    long translations = o.quick ? 20000 : 200000;
    struct bench_row refs[2] = {bench_ref_mem_read(translations * 20), bench_ref_uthash(translations * 20)};
    bench_report(refs, 2, &o);
    printf("\n%10s  %14s  %14s  %6s  %12s  %12s  %12s\n", "N", "N PASIDs ns", "1 space ns", "ratio",
           "reads N/1", "build N ms", "build 1 ms");
    bool all_ok = true;
    for (int s = 0; s < nsweep; s++) {
        struct sweep_row r = {.n = sweep[s]};
        r.ok = (!bench_selected(&o, "N PASIDs") ||
                run_shape(MANY_PASIDS, r.n, translations, &r.ns[0], &r.build_ms[0], &r.reads[0])) &&
               (!bench_selected(&o, "one space") ||
                run_shape(ONE_SPACE, r.n, translations, &r.ns[1], &r.build_ms[1], &r.reads[1]));
        all_ok = all_ok && r.ok;
        if (r.ok)
            printf("%10llu  %14.1f  %14.1f  %6.2f  %5.1f / %4.1f  %12.1f  %12.1f\n", (unsigned long long)r.n, r.ns[0],
                   r.ns[1], r.ns[1] > 0 ? r.ns[0] / r.ns[1] : 0, r.reads[0], r.reads[1], r.build_ms[0], r.build_ms[1]);
    }
    printf("\nThe IOMMU directly, the N PASIDs sharing their tables below the root:\n");
    printf("%10s  %14s  %14s  %6s  %12s  %12s  %12s\n", "N", "N PASIDs ns", "1 space ns", "ratio", "reads N/1",
           "build N ms", "build 1 ms");
    for (int s = 0; s < ndirect; s++) {
        struct sweep_row r = {.n = direct[s]};
        r.ok = (!bench_selected(&o, "direct: PASIDs sharing tables") ||
                direct_shape(MANY_PASIDS, r.n, translations, &r.ns[0], &r.build_ms[0], &r.reads[0])) &&
               (!bench_selected(&o, "direct: space of N pages") ||
                direct_shape(ONE_SPACE, r.n, translations, &r.ns[1], &r.build_ms[1], &r.reads[1]));
        all_ok = all_ok && r.ok;
        if (r.ok)
            printf("%10llu  %14.1f  %14.1f  %6.2f  %5.1f / %4.1f  %12.1f  %12.1f\n", (unsigned long long)r.n, r.ns[0],
                   r.ns[1], r.ns[1] > 0 ? r.ns[0] / r.ns[1] : 0, r.reads[0], r.reads[1], r.build_ms[0], r.build_ms[1]);
    }
    printf("\ntarget: N PASIDs of one page within 1.5x of one space of N pages at every N\n");
    return all_ok ? 0 : 1;
}
