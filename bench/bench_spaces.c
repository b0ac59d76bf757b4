/*
 * bench_spaces.c: whether trace replay stays flat in the number of address spaces. For each N it
 * replays, through trace/replay.c, N PASIDs of one 4 KiB page each and one PASID of N pages,
 * both round-robin so that every translation misses the IOTLB (and, with the paging-structure
 * caches off, walks all four levels), and prints ns per translation for both and their ratio,
 * with the time to build the N spaces. Target: the ratio within 1.5 at every N.
 *
 * Options: those of every benchmark, and --n N (repeatable) for the sweep. --only "N PASIDs" or
 * --only "one space" runs one shape alone (no ratio), for a profiler.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "trace/replay.h"

#define SID 0x0100
#define RUNS 5
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
    double samples[RUNS];
    struct vtrace_replay_result before, after;
    if (ok)
        vtrace_replay_result(rp, &before);
    for (int run = 0; ok && run < RUNS; run++) {
        double t0 = bench_now_ns();
        for (long p = 0; ok && p < passes; p++)
            ok = !vtrace_replay_events(rp, ev, (long)n, n * (uint64_t)(1 + run * passes + p), err);
        samples[run] = (bench_now_ns() - t0) / ((double)passes * (double)n);
    }
    if (ok) {
        vtrace_replay_result(rp, &after);
        *ns = bench_median(samples, RUNS);
        *reads = (double)(after.reads - before.reads) / (double)(after.translations - before.translations);
    } else {
        fprintf(stderr, "bench_spaces: N = %llu: %s\n", (unsigned long long)n, rp ? err : "out of memory");
    }
    free(ev);
    vtrace_replay_free(rp);
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
        else
            argv[keep++] = argv[i];
    }
    if (!bench_parse_args(keep, argv, "bench_spaces", &o))
        return 2;
    if (!nsweep) {
        static const uint64_t quick[] = {1024}, full[] = {8192, 32768, 131072};
        const uint64_t *d = o.quick ? quick : full;
        nsweep = o.quick ? 1 : 3;
        memcpy(sweep, d, (size_t)nsweep * sizeof(*d));
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
    printf("\ntarget: N PASIDs of one page within 1.5x of one space of N pages at every N\n");
    return all_ok ? 0 : 1;
}
